"""Log lines: JSON or text, one line per request (JSON mode) and per job, and RQ's per-job chatter at debug.

`configure` is called by the processes' entry points (the web app factory only
when JSON is asked for, the worker and scheduler commands always). A request
gets an id (the caller's `X-Request-Id` when it is a sane token, else a new
one) that its response carries, in any mode; it is bound as the trace
(`live.trace`) for the request, so jobs enqueued on it carry it in their meta
and its events name it. A webhook's line also names the conversations it
stored; the routing job's line names them again and the requests that stored
them (`request_ids`), and its `conversation.created` events carry both, so a
post can be followed from its webhook to its routing and to the console.
"""

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, current_app, g, request

from workspace.live import trace

# Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON line.
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# A caller's request id is kept only if it looks like one (no log injection, bounded length).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# RQ's INFO lines for every job (taken, done, result kept); at thousands of jobs a minute they drown the rest.
RQ_JOB_LINES = frozenset({
    "Worker %s: %s: %s", "Worker %s: %s: %s (%s)",
    "Successfully completed job %s in %ss on worker %s", "Successfully completed %s job in %ss on worker %s",
    "Worker %s: job %s result discarded immediately", "Worker %s: job %s result is kept for %s seconds",
    "Worker %s: job %s result will never expire, clean up result key manually",
})

# The gevent websocket server's per-request access lines (gunicorn's --access-logfile ends up here).
ACCESS_LOGGER = "geventwebsocket.handler"
# Our handler's name on the root logger, so configuring again replaces it (and leaves others alone).
HANDLER_NAME = "switchboard"

request_log = logging.getLogger("switchboard.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as one line of JSON."""
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        line.update((key, value) for key, value in vars(record).items() if key not in STANDARD_ATTRIBUTES)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RqJobLinesAtDebug(logging.Filter):
    """Demote RQ's per-job INFO lines to DEBUG (the worker logs its own line per job instead)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Re-level a per-job line, then keep it only if its logger shows debug lines."""
        if record.levelno == logging.INFO and record.msg in RQ_JOB_LINES:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def configure(json_lines: bool, level: int = logging.INFO) -> None:
    """Send every log line to stderr, as JSON or text, with RQ's per-job lines at debug.

    Args:
        json_lines: JSON objects (True) or the usual text lines.
        level: the root logger's level.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:  # configured again: replace ours
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level)
    if json_lines:  # our request line replaces the web server's access line (geventwebsocket logs it at info)
        logging.getLogger(ACCESS_LOGGER).setLevel(logging.WARNING)
    rq_worker = logging.getLogger("rq.worker")
    if not any(isinstance(f, RqJobLinesAtDebug) for f in rq_worker.filters):
        rq_worker.addFilter(RqJobLinesAtDebug())


def request_id() -> str:
    """This request's id: the caller's X-Request-Id when sane, else a new one (kept for the request)."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    return g.request_id


def _start() -> None:
    """Note when the request began (for its line's duration) and bind its id as the trace (live.trace)."""
    g.request_started = time.perf_counter()
    g.trace_token = trace.bind(request_id=request_id())


def _finish(response):
    """Echo the request id; in JSON mode, log one line for the request (method, path, status, duration, id,
    and any fields views added)."""
    rid = request_id()
    response.headers["X-Request-Id"] = rid
    if current_app.config.get("LOG_FORMAT") != "json":
        return response
    started = g.get("request_started")
    request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
        "request_id": rid, "method": request.method, "path": request.path, "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        **g.get("log_fields", {})})
    return response


def _unbind(error=None) -> None:
    """Unbind the request's trace (a test client runs requests in the test's own context)."""
    token = g.pop("trace_token", None)
    if token is not None:
        try:
            trace.unbind(token)
        except ValueError:  # torn down in another context than the one that bound it: nothing to restore
            pass


def add_fields(**fields) -> None:
    """Add fields to this request's log line (a webhook adds its channel and the conversations it stored)."""
    g.setdefault("log_fields", {}).update(fields)


def init_app(app: Flask) -> None:
    """Give every request an id (bound as the trace, echoed as X-Request-Id); in JSON mode, format this
    process's logs as JSON and log one line per request."""
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_unbind)
    if app.config.get("LOG_FORMAT") == "json":
        configure(json_lines=True)
