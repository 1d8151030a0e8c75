"""The trace of the work in hand: which HTTP request or RQ job it is, so its events and jobs can name it.

A web request binds its request id for its duration; the worker binds each
job's id and the request ids its meta carries (a routing job carries one per
conversation it routes, the webhook request that stored it). `Changes`
adds the trace to the `conversation.*` events it publishes, and the job table
copies the request id into the meta of the jobs enqueued meanwhile, so a post
can be followed from the webhook's log line to the job's line and to the
console's event. A context variable, so concurrent requests (greenlets,
threads) each see their own.
"""

import contextlib
from contextvars import ContextVar

_TRACE: ContextVar[dict | None] = ContextVar("switchboard_trace", default=None)


def current() -> dict:
    """The trace bound now: `request_id`, `job_id`, `request_ids` ({conversation id: request id}), or {}."""
    return _TRACE.get() or {}


def bind(**fields) -> object:
    """Bind a trace (fields whose value is None are left out); returns the token `unbind` takes."""
    return _TRACE.set({name: value for name, value in fields.items() if value is not None})


def unbind(token) -> None:
    """Restore the trace bound before `bind` returned this token."""
    _TRACE.reset(token)


@contextlib.contextmanager
def bound(**fields):
    """Bind a trace for the block."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def for_conversations(ids: list[int]) -> dict | None:
    """The trace an event about these conversations carries: the request or job at work, and which
    request stored each conversation, when known; None when nothing is bound."""
    trace = current()
    if not trace:
        return None
    origins = trace.get("request_ids") or {}
    shown = {name: value for name, value in trace.items() if name != "request_ids"}
    matching = {str(cid): origins[str(cid)] for cid in ids if str(cid) in origins}
    if matching:
        shown["request_ids"] = matching
    return shown
