"""Services own the workflows: transactions, and after the commit the events and effects they ask for (live.Changes)."""
