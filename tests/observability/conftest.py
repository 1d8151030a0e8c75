"""Fixtures of the observability tests."""

import logging

import pytest


@pytest.fixture(autouse=True)
def restored_logging():
    """Put the root logger and RQ's worker logger back as they were after each test."""
    root, rq_worker = logging.getLogger(), logging.getLogger("rq.worker")
    handlers, level, filters = list(root.handlers), root.level, list(rq_worker.filters)
    yield
    root.handlers[:], rq_worker.filters[:] = handlers, filters
    root.setLevel(level)
