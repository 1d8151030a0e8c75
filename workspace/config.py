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
    # Signed deliveries a second a channel takes when its settings name no rate_limit (above the 200 posts/s
    # the design's soak sends); beyond it, 429 with Retry-After.
    WEBHOOK_RATE_LIMIT = _env_float("SWITCHBOARD_WEBHOOK_RATE_LIMIT", 300.0)
    # Badly signed deliveries an address may send a channel a minute before it gets 429 without being heard.
    WEBHOOK_BAD_SIGNATURES_PER_MINUTE = _env_float("SWITCHBOARD_WEBHOOK_BAD_SIGNATURES_PER_MINUTE", 60.0)
    # Web processes serving webhooks (gunicorn workers x hosts): each counts alone, so each takes its share.
    WEB_PROCESSES = _env_int("SWITCHBOARD_WEB_PROCESSES", 1)
    # A post by the same author on the same channel within this many seconds
    # of their last one joins that conversation.
    THREAD_WINDOW_SECONDS = _env_int("SWITCHBOARD_THREAD_WINDOW_SECONDS", 4 * 3600)

    # Email (workspace/channels/email): the largest message taken (SMTP answers 552 past it, the webhook 413),
    # the listener's address, and a sender's messages within a window past which their mail is suspended.
    EMAIL_MAX_BYTES = _env_int("SWITCHBOARD_EMAIL_MAX_BYTES", 25 * 1024 * 1024)
    SMTP_LISTEN_HOST = os.environ.get("SWITCHBOARD_SMTP_HOST", "127.0.0.1")
    SMTP_LISTEN_PORT = _env_int("SWITCHBOARD_SMTP_PORT", 2525)
    # Listen with SO_REUSEPORT, so several `flask smtp` processes share the port (./bin/run --scale smtp=N sets
    # it). Off by default: a stray listener left running would otherwise quietly take a share of the mail.
    SMTP_SHARED_PORT = os.environ.get("SWITCHBOARD_SMTP_SHARED_PORT", "0") == "1"
    EMAIL_FLOOD_MESSAGES = _env_int("SWITCHBOARD_EMAIL_FLOOD_MESSAGES", 20)
    EMAIL_FLOOD_SECONDS = _env_int("SWITCHBOARD_EMAIL_FLOOD_SECONDS", 300)

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
    # Confidences are calibrated (a post routed at 0.6 is right at least ~6 times in 10); on CLINC150
    # 0.6 sends 71% of out-of-scope posts to triage while keeping 98% of the in-scope accuracy
    # (bench/classifier.py --out-of-scope), where 0.5 let 44% of them through; 0.7 kept only 95%.
    ROUTING_THRESHOLD = _env_float("SWITCHBOARD_ROUTING_THRESHOLD", 0.6)

    # Where trained classifier versions are written (instance folder if unset).
    MODEL_DIR = os.environ.get("SWITCHBOARD_MODEL_DIR")
    # A running process re-checks which model version is active at most this often.
    MODEL_RELOAD_SECONDS = _env_float("SWITCHBOARD_MODEL_RELOAD_SECONDS", 10.0)
    # Unused agent corrections that trigger a retrain job.
    RETRAIN_AFTER_CORRECTIONS = _env_int("SWITCHBOARD_RETRAIN_AFTER_CORRECTIONS", 50)
    # Agent assist: after routing, a worker job stores suggested macros and past replies for each conversation.
    SUGGESTIONS_ENABLED = os.environ.get("SWITCHBOARD_SUGGESTIONS", "1") == "1"
    # Drafts from an OpenAI-compatible chat-completions endpoint (a self-hosted model server or a vendor), e.g.
    # http://127.0.0.1:8000/v1; off while unset. Its key is sent as a bearer token.
    GENERATOR_URL = (os.environ.get("SWITCHBOARD_GENERATOR_URL") or "").rstrip("/") or None
    GENERATOR_KEY = os.environ.get("SWITCHBOARD_GENERATOR_KEY")
    GENERATOR_MODEL = os.environ.get("SWITCHBOARD_GENERATOR_MODEL", "default")
    GENERATOR_TIMEOUT_SECONDS = _env_float("SWITCHBOARD_GENERATOR_TIMEOUT_SECONDS", 20.0)

    # Session cookies: never readable by scripts, not sent on cross-site posts,
    # and HTTPS-only unless turned off for a plain-HTTP local run.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SWITCHBOARD_SECURE_COOKIES", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # CSRF is checked explicitly (see workspace/web/auth.py): browser sessions need
    # it, bearer-token API calls and signed webhooks do not.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    # Sign-in throttling (workspace/services/signin/throttle.py): failed passwords or codes allowed before
    # delays start, per (email, address) or (email, known browser), per email from unknown browsers, and per
    # address; past them each failure doubles the wait before the next try, from the first delay to the cap.
    LOGIN_FREE_FAILURES_PER_PAIR = _env_int("SWITCHBOARD_LOGIN_FREE_FAILURES_PER_PAIR", 3)
    LOGIN_FREE_FAILURES_PER_EMAIL = _env_int("SWITCHBOARD_LOGIN_FREE_FAILURES_PER_EMAIL", 20)
    LOGIN_FREE_FAILURES_PER_ADDRESS = _env_int("SWITCHBOARD_LOGIN_FREE_FAILURES_PER_ADDRESS", 20)
    LOGIN_FIRST_DELAY_SECONDS = _env_float("SWITCHBOARD_LOGIN_FIRST_DELAY_SECONDS", 1.0)
    LOGIN_MAX_DELAY_SECONDS = _env_float("SWITCHBOARD_LOGIN_MAX_DELAY_SECONDS", 900.0)
    # Failures are forgotten after this long without an attempt (at least the cap).
    LOGIN_MEMORY_SECONDS = _env_int("SWITCHBOARD_LOGIN_MEMORY_SECONDS", 3600)
    # A browser that signed in is "known" for its email this long (its failures then slow only itself).
    KNOWN_DEVICE_DAYS = _env_int("SWITCHBOARD_KNOWN_DEVICE_DAYS", 180)
    # After a right password, the second-factor code must follow within this many seconds.
    TWO_FACTOR_PENDING_SECONDS = _env_int("SWITCHBOARD_TWO_FACTOR_PENDING_SECONDS", 300)
    # OpenID Connect single sign-on (workspace/web/sso.py); off while SSO_ISSUER is unset. The issuer's
    # /.well-known/openid-configuration names its endpoints and keys.
    SSO_ISSUER = (os.environ.get("SWITCHBOARD_SSO_ISSUER") or "").rstrip("/") or None
    SSO_CLIENT_ID = os.environ.get("SWITCHBOARD_SSO_CLIENT_ID")
    SSO_CLIENT_SECRET = os.environ.get("SWITCHBOARD_SSO_CLIENT_SECRET")
    # The button reads "Sign in with <SSO_NAME>".
    SSO_NAME = os.environ.get("SWITCHBOARD_SSO_NAME", "single sign-on")
    # Email domains allowed to sign in this way (empty: any domain the provider vouches for).
    SSO_ALLOWED_DOMAINS = [d.strip().lower().lstrip("@") for d in
                           os.environ.get("SWITCHBOARD_SSO_ALLOWED_DOMAINS", "").split(",") if d.strip()]
    # Someone the provider vouches for but who has no agent yet: created (an agent in no queue), or refused.
    SSO_CREATE_AGENTS = os.environ.get("SWITCHBOARD_SSO_CREATE_AGENTS", "0") == "1"
    # Password sign-in is then refused for everyone but admins (who keep it, so a provider outage
    # cannot lock out the people who can fix the configuration).
    SSO_ONLY = os.environ.get("SWITCHBOARD_SSO_ONLY", "0") == "1"
    # Each call to the provider (discovery, keys, token) gives up after this long.
    SSO_TIMEOUT_SECONDS = _env_float("SWITCHBOARD_SSO_TIMEOUT_SECONDS", 10.0)

    # Flask-SocketIO's async mode; unset picks what is installed (gevent, as the
    # Procfile's worker runs). bench/live.py compares "threading" against it.
    SOCKETIO_ASYNC_MODE = os.environ.get("SWITCHBOARD_SOCKETIO_ASYNC_MODE") or None
    # Seconds a reply's sender waits for Discourse or a callback URL to answer.
    DELIVERY_TIMEOUT_SECONDS = _env_float("SWITCHBOARD_DELIVERY_TIMEOUT_SECONDS", 20.0)
    # Bulk actions: conversations per job transaction (and per progress event),
    # the most one bulk action may change, and how long its undo is offered.
    BULK_BATCH = _env_int("SWITCHBOARD_BULK_BATCH", 500)
    BULK_MAX_CONVERSATIONS = _env_int("SWITCHBOARD_BULK_MAX_CONVERSATIONS", 20_000)
    BULK_UNDO_SECONDS = _env_int("SWITCHBOARD_BULK_UNDO_SECONDS", 600)
    # SLAs and automatic assignment (workspace/services/service_levels/ and assignment.py).
    # A target is at risk once this share of it has elapsed (policies may set their own).
    SLA_AT_RISK_FRACTION = _env_float("SWITCHBOARD_SLA_AT_RISK_FRACTION", 0.75)
    # The SLA watcher's period, and conversations it handles per transaction.
    SLA_CHECK_INTERVAL_SECONDS = _env_int("SWITCHBOARD_SLA_CHECK_INTERVAL_SECONDS", 30)
    SLA_CHECK_BATCH = _env_int("SWITCHBOARD_SLA_CHECK_BATCH", 500)
    # An agent is online while their console's heartbeat (every 30 s) is younger than this.
    PRESENCE_ONLINE_SECONDS = _env_int("SWITCHBOARD_PRESENCE_ONLINE_SECONDS", 90)
    # Untouched conversations of an agent offline or away this long go back to the queue.
    ASSIGNMENT_RETURN_SECONDS = _env_int("SWITCHBOARD_ASSIGNMENT_RETURN_SECONDS", 600)
    # The assignment catch-up's period, and conversations it assigns per queue per run.
    ASSIGNMENT_INTERVAL_SECONDS = _env_int("SWITCHBOARD_ASSIGNMENT_INTERVAL_SECONDS", 30)
    ASSIGNMENT_BATCH = _env_int("SWITCHBOARD_ASSIGNMENT_BATCH", 200)
    # The supervisors' dashboard is pushed at most this often, and its slower
    # figures (reply-time percentiles, handle times) recomputed at most this often.
    DASHBOARD_PUSH_SECONDS = _env_float("SWITCHBOARD_DASHBOARD_PUSH_SECONDS", 2.0)
    DASHBOARD_SLOW_SECONDS = _env_float("SWITCHBOARD_DASHBOARD_SLOW_SECONDS", 30.0)
    # Run the dashboard pusher in web processes (off in tests, which push by hand).
    DASHBOARD_PUSHER_ENABLED = os.environ.get("SWITCHBOARD_DASHBOARD_PUSHER", "1") == "1"
    # Spike detection (routing/spikes.py explains the method): how often it runs and its thresholds.
    SPIKE_INTERVAL_SECONDS = _env_int("SWITCHBOARD_SPIKE_INTERVAL_SECONDS", 60)
    SPIKE_MIN_COUNT = _env_int("SWITCHBOARD_SPIKE_MIN_COUNT", 20)
    # How often new authors are compared with the others for the people they may be (services.people.links).
    PEOPLE_INTERVAL_SECONDS = _env_int("SWITCHBOARD_PEOPLE_INTERVAL_SECONDS", 60)
    SPIKE_Z_THRESHOLD = _env_float("SWITCHBOARD_SPIKE_Z_THRESHOLD", 4.0)
    SPIKE_MIN_RATIO = _env_float("SWITCHBOARD_SPIKE_MIN_RATIO", 3.0)
    # How often the scheduler runs the automations (workspace/services/automations/).
    AUTOMATION_INTERVAL_SECONDS = _env_int("SWITCHBOARD_AUTOMATION_INTERVAL_SECONDS", 60)
    # How often the scheduler looks whether the weekly report's mail is due (services/alerts/weekly.py).
    REPORT_CHECK_INTERVAL_SECONDS = _env_int("SWITCHBOARD_REPORT_CHECK_INTERVAL_SECONDS", 300)
    # Outbound events (workspace/services/subscriptions/): a subscription is disabled after this many failed
    # attempts in a row; URLs on private, loopback or link-local addresses are refused unless allowed (tests).
    SUBSCRIPTION_DISABLE_AFTER = _env_int("SWITCHBOARD_SUBSCRIPTION_DISABLE_AFTER", 15)
    SUBSCRIPTION_ALLOW_PRIVATE = os.environ.get("SWITCHBOARD_SUBSCRIPTION_ALLOW_PRIVATE", "0") == "1"

    # "json": every process logs JSON lines, web processes one per request, workers one per job (each with its
    # request and job ids); "text": plain lines for a terminal (gunicorn's access log is the per-request line,
    # a routine job's line is a debug line). Every answer carries X-Request-Id either way.
    LOG_FORMAT = os.environ.get("SWITCHBOARD_LOG_FORMAT", "text")
    # /metrics answers a bearer token equal to this (or an admin's API token); unset, admins' tokens only.
    METRICS_TOKEN = os.environ.get("SWITCHBOARD_METRICS_TOKEN")
    # Set, every process writes its counters and histograms there and /metrics sums them all
    # (prometheus_client reads the same variable when imported); unset, each process reports its own.
    # `./bin/run` sets it to instance/prometheus and empties it at each start.
    METRICS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    # Watch the web process's gevent loop with a heartbeat (observability/stalls.py), and log
    # every stall of at least this many milliseconds.
    STALL_MONITOR = os.environ.get("SWITCHBOARD_STALL_MONITOR", "1") == "1"
    STALL_LOG_MS = _env_float("SWITCHBOARD_STALL_LOG_MS", 100.0)
    # A customer's history and a conversation's thread are read this many at a time (the newest first).
    HISTORY_PAGE_SIZE = _env_int("SWITCHBOARD_HISTORY_PAGE_SIZE", 50)
    THREAD_PAGE_SIZE = _env_int("SWITCHBOARD_THREAD_PAGE_SIZE", 100)
    # A bulk dry run goes through at most this many conversations in the request; the rest are the job's.
    BULK_DRY_RUN_LIMIT = _env_int("SWITCHBOARD_BULK_DRY_RUN_LIMIT", 200)

    # Proxies in front of the web processes (nginx: 1) whose X-Forwarded-For and X-Forwarded-Proto
    # are believed, so per-address limits and logs see the real client; 0 believes no such header.
    PROXY_COUNT = _env_int("SWITCHBOARD_PROXY_COUNT", 0)

    API_PAGE_SIZE = 50
    API_MAX_PAGE_SIZE = 200

    # Where agents reach this console (links back from tickets to conversations).
    PUBLIC_URL = os.environ.get("SWITCHBOARD_PUBLIC_URL", "http://localhost:5000").rstrip("/")
    # The ticketing system escalations go to: any Zendesk (https://<subdomain>.zendesk.com) or the
    # stub that ships with Switchboard (`./bin/run` starts it and sets these). Basic auth
    # `EMAIL/token:TOKEN` when EMAIL is set, else `Authorization: Bearer TOKEN` (OAuth).
    TICKETING_URL = os.environ.get("SWITCHBOARD_TICKETING_URL", "http://127.0.0.1:5001").rstrip("/")
    TICKETING_EMAIL = os.environ.get("SWITCHBOARD_TICKETING_EMAIL")
    TICKETING_TOKEN = os.environ.get("SWITCHBOARD_TICKETING_TOKEN")
    # Each call to the ticketing system gives up after this long (the job then retries).
    TICKETING_TIMEOUT_SECONDS = _env_float("SWITCHBOARD_TICKETING_TIMEOUT_SECONDS", 10.0)
    # The secret ticket-status webhooks are signed with (Zendesk: the webhook's signing secret);
    # unset, every status webhook is refused.
    TICKETING_WEBHOOK_SECRET = os.environ.get("SWITCHBOARD_TICKETING_WEBHOOK_SECRET")
    # Seconds between attempts to create a ticket while the ticketing system fails (exponential);
    # after the last one the sweeper starts the series again, so nothing is dropped.
    ESCALATION_RETRY_SECONDS = [int(s) for s in os.environ.get(
        "SWITCHBOARD_ESCALATION_RETRY_SECONDS", "5,15,45,135,405,1215").split(",")]


    # Web Push (RFC 8030/8291/8292). The VAPID key pair lives in this PEM file (None: instance/vapid.pem,
    # made at set-up or first use); the subject is how push services reach the operator (mailto: or https:).
    VAPID_KEY_FILE = os.environ.get("SWITCHBOARD_VAPID_KEY_FILE")
    VAPID_SUBJECT = os.environ.get("SWITCHBOARD_VAPID_SUBJECT", "mailto:support@example.com")
    # One request to a push service gives up after this long; the job goes on to the next device.
    PUSH_TIMEOUT_SECONDS = _env_float("SWITCHBOARD_PUSH_TIMEOUT_SECONDS", 5.0)
    # At most this many pushes reach one agent a minute; what waits is folded into the next one.
    PUSH_PER_MINUTE = _env_int("SWITCHBOARD_PUSH_PER_MINUTE", 6)
    # How long a push service keeps an undelivered push (TTL header), in seconds.
    PUSH_TTL_SECONDS = _env_int("SWITCHBOARD_PUSH_TTL_SECONDS", 3600)
    # Push endpoints on loopback or private addresses, and plain http ones, are refused (no server-side
    # request forgery) unless this is on: only for a local push service in tests and development.
    PUSH_ALLOW_LOCAL_ENDPOINTS = os.environ.get("SWITCHBOARD_PUSH_ALLOW_LOCAL_ENDPOINTS", "0") == "1"
    # An urgent conversation pushed to the person on call goes to the next one on the rota when nobody
    # opened it within this many minutes.
    ON_CALL_ESCALATE_MINUTES = _env_int("SWITCHBOARD_ON_CALL_ESCALATE_MINUTES", 10)
    PUSH_CHECK_INTERVAL_SECONDS = _env_int("SWITCHBOARD_PUSH_CHECK_INTERVAL_SECONDS", 60)
    # Notifications by email (services/notifications/mail): the relay the worker sends them through (None: no
    # notification mail is sent) and the sender they come from. Not SWITCHBOARD_SMTP_HOST: that is the listener.
    NOTIFY_SMTP_HOST = os.environ.get("SWITCHBOARD_NOTIFY_SMTP_HOST") or None
    NOTIFY_SMTP_PORT = _env_int("SWITCHBOARD_NOTIFY_SMTP_PORT", 25)
    NOTIFY_SMTP_STARTTLS = os.environ.get("SWITCHBOARD_NOTIFY_SMTP_STARTTLS", "0") == "1"
    NOTIFY_SMTP_USERNAME = os.environ.get("SWITCHBOARD_NOTIFY_SMTP_USERNAME") or None
    NOTIFY_SMTP_PASSWORD = os.environ.get("SWITCHBOARD_NOTIFY_SMTP_PASSWORD", "")
    NOTIFY_MAIL_FROM = os.environ.get("SWITCHBOARD_NOTIFY_MAIL_FROM", "switchboard@localhost")

class TestConfig(Config):
    """Settings for the test suite: no background threads, fast sweeps."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    DISPATCHER_ENABLED = False
    DASHBOARD_PUSHER_ENABLED = False
    SWEEP_GRACE_SECONDS = 0
    PUSH_ALLOW_LOCAL_ENDPOINTS = True
    # Off unless a test is about them: training a ranker after every routed batch would slow the rest.
    SUGGESTIONS_ENABLED = False
    # Tests' receivers listen on 127.0.0.1 (the refusal itself is tested with this off).
    SUBSCRIPTION_ALLOW_PRIVATE = True


class TicketingStubConfig:
    """Settings of the ticketing stub (`ticketing_stub`), its own service with its own storage."""

    # The stub's own SQLite file (None: tickets.db in the instance folder).
    TICKETS_DATABASE = os.environ.get("TICKETS_DATABASE")
    # The API credentials it accepts: basic `EMAIL/token:TOKEN`, or TOKEN as an OAuth bearer.
    # Unset, every API call is refused (401), as an account with no tokens would.
    TICKETS_API_EMAIL = os.environ.get("TICKETS_API_EMAIL")
    TICKETS_API_TOKEN = os.environ.get("TICKETS_API_TOKEN")
    # Where each status change is POSTed (Switchboard's /webhooks/ticketing/status), and the
    # secret it is signed with, Zendesk style. No URL, no webhooks.
    TICKETS_WEBHOOK_URL = os.environ.get("TICKETS_WEBHOOK_URL")
    TICKETS_WEBHOOK_SECRET = os.environ.get("TICKETS_WEBHOOK_SECRET", "")
    # Seconds between a failed webhook delivery and the next try (one try more than listed).
    TICKETS_WEBHOOK_RETRY_SECONDS = [1, 2, 4, 8]
    MAX_CONTENT_LENGTH = 1024 * 1024
