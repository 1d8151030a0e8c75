"""The knowledge base: help articles (Markdown, rendered safely), their search, and imports from files and forums."""
