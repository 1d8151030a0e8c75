"""Services own the workflows: transactions, enqueues and events."""
