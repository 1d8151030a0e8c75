"""People: one customer across channels (authors grouped into a person), links between them, custom fields."""
