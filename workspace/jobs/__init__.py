"""Background work: the one table of jobs, their RQ entry points, the schedule, the worker and the outbox dispatcher.

Services never enqueue: they ask through `live` signals after their commit, and
`init_app` connects the receivers (in `enqueue`) that turn those asks into jobs.
"""

from flask import Flask

from workspace.jobs import enqueue


def init_app(app: Flask) -> None:
    """Connect the signal receivers that enqueue jobs."""
    enqueue.init_app(app)
