"""Real-time: rooms, the changes gathered in a transaction, and publishing them (the only place that emits)."""
