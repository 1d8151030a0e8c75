"""The RQ entry points: plain functions taking ids, run inside the worker's app context.

Each calls one service function. They are kept apart from the services so the
dotted names RQ stores in Redis stay stable while services are reorganised.
They let exceptions propagate so RQ records and retries them, and are safe to
run twice: each looks at the database's state rather than at what it was told.
"""
