"""Schemathesis over the served OpenAPI document, shared by the test suite and bench/fuzz_api.py.

The app is served over real HTTP (werkzeug's server in a thread, the same app object and
database as the test), and Schemathesis's own engine runs every phase asked for with every
check it has: no 5xx, documented statuses, content types and response bodies, schema-valid
requests accepted and schema-violating ones refused.
"""

import collections
import contextlib
import threading
from dataclasses import dataclass, field

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from werkzeug.serving import WSGIRequestHandler, make_server

# A schema-valid request may still be refused for a reason no schema can state: state (a cursor
# the server never issued) or a rule across query parameters (OpenAPI has no way to say "queue is
# required when metric is depth"). Each such answer is listed here, by operationId, as the exact
# (status, error code, start of message) it gives: positive_data_acceptance lets that answer and no
# other pass for that operation. 404 and 409 (an id or slug naming nothing, a conflict) already pass.
_INVALID_RULE = [(400, "invalid_rule", "")]  # the rule language: compiled, not a schema
_INVALID_MACRO = [(400, "invalid_macro", "")]  # a Jinja template and actions: compiled, not a schema
_CALENDAR = [(400, "invalid_calendar", "")]  # a time zone that exists, windows that do not overlap
_INVALID_AUTOMATION = [(400, "invalid_automation", "")]  # conditions and actions: checked as a whole, not a schema
_BULK = [*_INVALID_MACRO, (400, "nothing_selected", ""), (400, "too_many", "")]
_VIEW_SLUGS = [(400, "invalid_field", "team_queue:"), (400, "invalid_field", "filters.queue: no queue"),
               (400, "invalid_field", "filters.channel: no channel")]
STATE_DEPENDENT = {
    "search_conversations": [(400, "invalid_cursor", "cursor:")],
    "list_queue_conversations": [(400, "invalid_cursor", "cursor:")],
    "list_dashboard_conversations": [(400, "invalid_field", "queue: is required for this metric"),
                                     (400, "invalid_field", "agent_id: is required"),
                                     (400, "invalid_field", "bucket:"), (400, "invalid_field", "incident_id:")],
    "export_dashboard": [(400, "invalid_field", "queue: is required for this metric"),
                         (400, "invalid_field", "agent_id: is required"),
                         (400, "invalid_field", "bucket:"), (400, "invalid_field", "incident_id:")],
    "sample_replies": [(400, "invalid_field", "queue: is required to sample one queue"),
                       (400, "invalid_field", "agent_id: is required")],
    # The test channel is a native one: only X channels answer the CRC challenge.
    "answer_challenge": [(405, "method_not_allowed", "")],
    "update_conversation": [(400, "not_routed", ""), (400, "not_a_member", ""),
                            (400, "invalid_field", "assignee: no active agent")],
    "reply_to_conversation": [(400, "reply_too_long", ""), (400, "not_email", ""),
                              (400, "invalid_field", "cc:"), (400, "invalid_field", "bcc:"),
                              (400, "invalid_field", "attachments:")],
    # The test channel is a native one: only email conversations are forwarded or started by mail.
    "forward_conversation": [(400, "not_email", ""), (400, "invalid_field", "to:"), (400, "invalid_field", "cc:")],
    "start_email_conversation": [(400, "not_email", ""), (400, "invalid_field", "to:"),
                                 (400, "invalid_field", "cc:"), (400, "invalid_field", "bcc:"),
                                 (400, "invalid_field", "attachments:"), (400, "invalid_field", "subject:")],
    # A slug (given, or made from the title) that an earlier case took.
    "create_article": [(400, "duplicate_slug", "")],
    "update_article": [(400, "duplicate_slug", "")],
    "set_member_capacity": [(400, "not_a_member", "")],
    # A queue's lead must be an active supervisor or admin.
    "create_queue": [(400, "invalid_field", "lead_id:")], "update_queue": [(400, "invalid_field", "lead_id:")],
    # Which settings exist, and what a URL must be, depend on the channel's kind; so does how long an
    # acknowledgement may be (X counts 280 characters, every link 23); an enabled one needs its text.
    "create_channel": [(400, "invalid_field", "settings."), (400, "reply_too_long", ""),
                       (400, "invalid_field", "acknowledgement.in_hours: the reply to send")],
    "update_channel": [(400, "invalid_field", "settings."), (400, "reply_too_long", ""),
                       (400, "invalid_field", "acknowledgement.in_hours: the reply to send")],
    "create_rule": [*_INVALID_RULE, (400, "invalid_field", "position: must be a whole number from 0 to")],
    "update_rule": [*_INVALID_RULE, (400, "invalid_field", "position: must be a whole number from 0 to")],
    "replay_routing": _INVALID_RULE,
    # Level thresholds in order (urgent_at >= high_at >= normal_at): across fields, which the document cannot say.
    "update_priority_weights": [(400, "invalid_field", "urgent_at: must be at least high_at")],
    "preview_priority_weights": [(400, "invalid_field", "urgent_at: must be at least high_at"), *_INVALID_RULE],
    "create_macro": _INVALID_MACRO,
    # A change that leaves a team macro (or one made team) without a queue: the stored macro decides.
    "update_macro": [*_INVALID_MACRO, (400, "invalid_field", "queue: a team macro names its team's queue")],
    "import_macros": _INVALID_MACRO,
    "create_bulk": _BULK, "dry_run_bulk": _BULK,
    "create_automation": _INVALID_AUTOMATION, "update_automation": _INVALID_AUTOMATION,
    "dry_run_automation": _INVALID_AUTOMATION,
    # A URL's host may name a private address (refused), and is checked beyond what a schema can say.
    "create_subscription": [(400, "invalid_url", "")], "update_subscription": [(400, "invalid_url", "")],
    # The same for the incident webhook; the weekly report needs a recipient once on.
    "update_alert_settings": [(400, "invalid_url", ""),
                              (400, "invalid_field", "report_recipients: the weekly report needs")],
    # An agent id that names nobody, from after to, dates of the documented length that are no dates, and
    # cursors this API did not return.
    "list_audit": [(400, "invalid_field", "agent: no agent"), (400, "invalid_field", "from:"),
                   (400, "invalid_field", "to:"), (400, "invalid_cursor", "cursor:")],
    # A view's queue, channel and team name slugs that must exist (the team one a queue the agent works).
    "create_view": _VIEW_SLUGS, "update_view": _VIEW_SLUGS,
    "create_calendar": _CALENDAR, "update_calendar": _CALENDAR,
    "import_calendar_holidays": [(400, "invalid_ical", "")],
    # An expiry of the documented form may still name no real date, or one past, or over 5 years on.
    "issue_own_token": [(400, "invalid_field", "expires:")],
    # A time zone must exist, quiet hours need a start and a different end, muted queues must exist.
    "update_notification_settings": [(400, "invalid_field", "time_zone:"), (400, "invalid_field", "quiet hours"),
                                     (400, "invalid_field", "muted_queues:"), (400, "unsafe_endpoint", "")],
    # Browser keys must decode to a P-256 point and a 16-byte secret; a device count is capped.
    "add_push_device": [(400, "invalid_field", "keys."), (400, "too_many", ""), (400, "unsafe_endpoint", "")],
    # A rota's agents must work the queue; a day's shift names a weekday or a date, with different ends.
    "replace_on_call_rota": [(400, "not_a_member", ""), (400, "invalid_field", "shifts[")],
    "issue_agent_token": [(400, "invalid_field", "expires:")],
    # A schema-valid upload is still refused when its rows are not a labelled history of known queues.
    "train_classifier": [(400, "invalid_training_file", "content: ")],
}


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request (thousands of them)."""

    def log_request(self, *args, **kwargs) -> None:
        """Log nothing: the report says what failed."""


@contextlib.contextmanager
def serving(app):
    """Serve the app over real HTTP on a free local port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def fuzz_config(token: str, *, examples: int, seed: int, phases: tuple[str, ...]) -> SchemathesisConfig:
    """Every check, as the holder of `token`, with a fixed seed and `examples` per operation and phase."""
    return SchemathesisConfig.from_dict({
        "seed": seed,
        # A loaded CI machine can take seconds to answer; a timeout here would be reported as an error.
        "request-timeout": 300,
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": examples, "database": "none"},
        # Every check; a 5xx never counts as accepting valid data (Schemathesis's default lets it pass
        # here, since not_a_server_error reports it too).
        "checks": {"enabled": True,
                   "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409",
                                                                      "429"]}},
        "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
    })


def state_dependent(failure, case, response) -> bool:
    """Tell whether a positive_data_acceptance failure is one of the STATE_DEPENDENT answers."""
    if type(failure).__name__ != "RejectedPositiveData":
        return False
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return any(response.status_code == status and error.get("code") == code
               and str(error.get("message", "")).startswith(message)
               for status, code, message in STATE_DEPENDENT.get(case.operation.definition.raw.get("operationId"), ()))


@dataclass
class FuzzReport:
    """What a run did: operations and cases, and each failure by check and operation."""

    operations: set = field(default_factory=set)
    cases: int = 0
    failures: dict = field(default_factory=lambda: collections.defaultdict(list))
    errors: list = field(default_factory=list)

    def by_check(self) -> collections.Counter:
        """Failed cases per check."""
        return collections.Counter({check: sum(len(found) for (name, _), found in self.failures.items()
                                               if name == check)
                                    for check, _ in self.failures})

    def lines(self) -> list[str]:
        """One line per (check, operation) that failed: how often, with the first failure and its curl."""
        return [f"{check} {label} x{len(found)}: {found[0]}" for (check, label), found in sorted(self.failures.items())]


def _describe(info, interaction) -> str:
    """A failure's title and message, the request as curl and the answer's status and start."""
    response = interaction.response if interaction is not None else None
    answer = f"-> {response.status_code} {response.content[:300]!r}" if response is not None else ""
    return (f"{info.failure.title}: {info.failure.message.strip()[:400]}\n    "
            f"{info.code_sample.strip()[:500]}\n    {answer}")


def fuzz(base_url: str, config: SchemathesisConfig) -> FuzzReport:
    """Run Schemathesis's engine over the served document and collect what it found."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", config=config)
    schema.hook("filter_failure")(lambda context, failure, case, response: not state_dependent(
        failure, case, response))
    report = FuzzReport()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            report.operations.add(event.recorder.label)
            report.cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        report.failures[(check.name, event.recorder.label)].append(
                            _describe(check.failure_info, event.recorder.interactions.get(case_id)))
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.value!r}"[:500])
        elif isinstance(event, events.FatalError):
            report.errors.append(f"fatal: {event.exception!r}"[:500])
    return report
