"""Configuration: the one place that reads the environment."""

import os


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class Config:
    """Settings for a running Switchboard, read once from the environment."""

    SECRET_KEY = os.environ.get("SWITCHBOARD_SECRET_KEY")
    # None means "a SQLite file in the instance folder" (resolved by create_app).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
    # RQ queue that routing jobs go to; tests give each run its own.
    RQ_QUEUE = os.environ.get("SWITCHBOARD_RQ_QUEUE", "switchboard")

    # A webhook body may not exceed this; the server answers 413 past it.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Senders may batch this many posts in one JSON array.
    WEBHOOK_MAX_BATCH = _env_int("SWITCHBOARD_WEBHOOK_MAX_BATCH", 500)
    # A post by the same author on the same channel within this many seconds
    # of their last one joins that conversation.
    THREAD_WINDOW_SECONDS = _env_int("SWITCHBOARD_THREAD_WINDOW_SECONDS", 4 * 3600)

    # The dispatcher hands new work to RQ in batches of at most this many
    # conversations, waiting at most this long for a batch to fill.
    DISPATCH_BATCH = _env_int("SWITCHBOARD_DISPATCH_BATCH", 200)
    DISPATCH_LINGER_SECONDS = _env_float("SWITCHBOARD_DISPATCH_LINGER_SECONDS", 0.005)
    # While the last routing job waits for a busy worker, new rows gather for at
    # most this long before they are enqueued anyway (see dispatch.Dispatcher).
    DISPATCH_HOLD_SECONDS = _env_float("SWITCHBOARD_DISPATCH_HOLD_SECONDS", 0.5)
    # The dispatcher also wakes this often to pick up rows it was not told of.
    DISPATCH_POLL_SECONDS = _env_float("SWITCHBOARD_DISPATCH_POLL_SECONDS", 2.0)
    # Start the dispatcher thread in this process (off in tests and CLI runs).
    DISPATCHER_ENABLED = os.environ.get("SWITCHBOARD_DISPATCHER", "1") == "1"
    # The sweeper re-enqueues conversations still unrouted after this long.
    SWEEP_GRACE_SECONDS = _env_int("SWITCHBOARD_SWEEP_GRACE_SECONDS", 30)
    SWEEP_INTERVAL_SECONDS = _env_int("SWITCHBOARD_SWEEP_INTERVAL_SECONDS", 30)

    # SLA target (minutes to first reply) per priority, for queues that set none.
    DEFAULT_SLA_MINUTES = {"urgent": 30, "high": 120, "normal": 480, "low": 1440}

    # The classifier's confidence needed to route without a human, unless a queue sets its own.
    ROUTING_THRESHOLD = _env_float("SWITCHBOARD_ROUTING_THRESHOLD", 0.5)

    # Where trained classifier versions are written (instance folder if unset).
    MODEL_DIR = os.environ.get("SWITCHBOARD_MODEL_DIR")
    # A running process re-checks which model version is active at most this often.
    MODEL_RELOAD_SECONDS = _env_float("SWITCHBOARD_MODEL_RELOAD_SECONDS", 10.0)
    # Unused agent corrections that trigger a retrain job.
    RETRAIN_AFTER_CORRECTIONS = _env_int("SWITCHBOARD_RETRAIN_AFTER_CORRECTIONS", 50)

    # Session cookies: never readable by scripts, not sent on cross-site posts,
    # and HTTPS-only unless turned off for a plain-HTTP local run.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SWITCHBOARD_SECURE_COOKIES", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # CSRF is checked explicitly (see workspace/auth.py): browser sessions need
    # it, bearer-token API calls and signed webhooks do not.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    # Sign-in attempts allowed per email and per address in the window.
    LOGIN_ATTEMPTS_PER_EMAIL = _env_int("SWITCHBOARD_LOGIN_ATTEMPTS_PER_EMAIL", 8)
    LOGIN_ATTEMPTS_PER_ADDRESS = _env_int("SWITCHBOARD_LOGIN_ATTEMPTS_PER_ADDRESS", 30)
    LOGIN_WINDOW_SECONDS = _env_int("SWITCHBOARD_LOGIN_WINDOW_SECONDS", 900)

    # An open conversation is "at risk" when its first reply is due within this.
    AT_RISK_MINUTES = _env_int("SWITCHBOARD_AT_RISK_MINUTES", 30)

    # Flask-SocketIO's async mode; unset picks what is installed (gevent, as the
    # Procfile's worker runs). bench/live.py compares "threading" against it.
    SOCKETIO_ASYNC_MODE = os.environ.get("SWITCHBOARD_SOCKETIO_ASYNC_MODE") or None

    API_PAGE_SIZE = 50
    API_MAX_PAGE_SIZE = 200


class TestConfig(Config):
    """Settings for the test suite: no background threads, fast sweeps."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    DISPATCHER_ENABLED = False
    SWEEP_GRACE_SECONDS = 0
