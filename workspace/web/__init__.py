"""The HTTP and Socket.IO edge: the REST API, pages, webhooks and socket handlers."""
