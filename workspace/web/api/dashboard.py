"""The supervisors' dashboard over the API: the live figures, the conversations behind each, CSV exports."""

import csv
import io
import unicodedata
from datetime import datetime, timedelta

from flask import Response, jsonify, request

from workspace.errors import ValidationError
from workspace.serializers import serialize_conversation
from workspace.services.conversations.queues import previews
from workspace.services.supervision import dashboard
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, PATHS, json_body, whole_number_query
from workspace.web.auth import role_required
from workspace.web.validation import whole_number

EXPORT_TABLES = ("queues", "agents", "volume", "sentiment", "first_reply", "incidents", "drilldown")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection), also after
# leading whitespace; their fullwidth and small forms (＝, ﹦, …) fold onto them under NFKC, and the
# minus sign (U+2212) is one more minus.
FORMULA_STARTS = ("=", "+", "-", "@", "\u2212")
# A cell starting with one of these is quoted too: they can hide a formula's start from the eye.
HIDING_STARTS = ("\t", "\r", "\n")
# Unicode categories a spreadsheet may skip before the first character it reads: separators and
# invisible format or control characters (a byte-order mark, zero-width space, NUL).
SKIPPED_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}


@bp.get("/dashboard")
@role_required("supervisor")
def get_dashboard():
    """Every figure of the dashboard, as the live `dashboard.snapshot` event carries it."""
    return jsonify(dashboard.snapshot())


def _drilldown_args() -> dict:
    """The drill-down filters from the query string, checked."""
    args = {"queue": request.args.get("queue") or None, "bucket": request.args.get("bucket") or None}
    for name in ("agent_id", "incident_id"):
        args[name] = whole_number(name)
    return args


@bp.get("/dashboard/conversations")
@role_required("supervisor")
def list_dashboard_conversations():
    """The conversations behind one dashboard number (metric plus its queue, agent, bucket or incident)."""
    found = dashboard.drilldown(request.args.get("metric", ""), **_drilldown_args())
    texts = previews([c.id for c in found])
    return jsonify(data=[serialize_conversation(c, preview=texts.get(c.id, "")) for c in found])


def starts_formula(text: str) -> bool:
    """Tell whether a spreadsheet could read this text as a formula: its first visible character,
    folded to its ASCII form, is one of FORMULA_STARTS (or it starts with a tab or line break)."""
    if text.startswith(HIDING_STARTS):
        return True
    for char in text:
        if char.isspace() or unicodedata.category(char) in SKIPPED_CATEGORIES:
            continue
        return unicodedata.normalize("NFKC", char).startswith(FORMULA_STARTS)
    return False


def csv_cell(value) -> object:
    """A value safe to open in a spreadsheet: text that could start a formula gets a leading quote."""
    if isinstance(value, str) and starts_formula(value):
        return "'" + value
    return "" if value is None else value


def _rows(table: str) -> tuple[list[str], list[list]]:
    """The header and rows of one exportable dashboard table."""
    if table == "drilldown":
        found = dashboard.drilldown(request.args.get("metric", ""), **_drilldown_args())
        return (["id", "queue", "status", "priority", "subject", "customer", "assignee", "tags", "created_at",
                 "sla_due_at"],
                [[c["id"], c["queue"], c["status"], c["priority"], c["subject"], c["author"]["handle"],
                  (c["assignee"] or {}).get("name"), " ".join(c["tags"]), c["created_at"], c["sla_due_at"]]
                 for c in map(serialize_conversation, found)])
    data = dashboard.snapshot()
    if table == "queues":
        columns = ["queue", "name", "depth", "open", "pending", "unassigned", "at_risk", "breached",
                   "oldest_waiting_since", "csat_average", "csat_answers"]
        return columns, [[row[c] for c in columns] for row in data["queues"]]
    if table == "agents":
        columns = ["id", "name", "role", "status", "status_since", "open", "pending", "capacity", "handled_today",
                   "median_handle_seconds", "csat_average", "csat_answers"]
        return columns + ["queue_capacity"], [[row[c] for c in columns] + [_queue_capacities(row["queues"])]
                                              for row in data["agents"]]
    if table == "volume":
        volume = data["volume"]
        return (["queue", "bucket_start", "posts"],
                [[queue, bucket, count] for queue, counts in sorted(volume["series"].items())
                 for bucket, count in zip(_bucket_times(volume), counts, strict=True)])
    if table == "sentiment":
        return ["hour", "posts", "mean", "negative"], [[h["hour"], h["posts"], h["mean"], h["negative"]]
                                                        for h in data["sentiment"]["hours"]]
    if table == "first_reply":
        return (["period", "count", "p50_seconds", "p90_seconds"],
                [[period, f["count"], f["p50"], f["p90"]] for period, f in data["first_reply"].items()])
    return (["id", "title", "status", "match_kind", "match_value", "conversations", "active", "created_at"],
            [[i["id"], i["title"], i["status"], (i["match"] or {}).get("kind"), (i["match"] or {}).get("value"),
              i["counts"]["conversations"], i["counts"]["active"], i["created_at"]] for i in data["incidents"]])


def _queue_capacities(queues: list[dict]) -> str:
    """An agent's open load against capacity in each queue, in one cell: "billing 2/5; tech 1/-" (- no limit)."""
    return "; ".join(f"{q['queue']} {q['open']}/{'-' if q['capacity'] is None else q['capacity']}" for q in queues)


def _bucket_times(volume: dict) -> list[str]:
    """The ISO start of each bucket of the volume chart."""
    start = datetime.fromisoformat(volume["start"].replace("Z", "+00:00"))
    count = len(next(iter(volume["series"].values()), []))
    step = timedelta(minutes=volume["bucket_minutes"])
    return [(start + step * i).isoformat().replace("+00:00", "Z") for i in range(count)]


@bp.get("/dashboard/export")
@role_required("supervisor")
def export_dashboard():
    """One dashboard table (or the conversations behind a number) as CSV, safe to open in a spreadsheet."""
    table = request.args.get("table", "")
    if table not in EXPORT_TABLES:
        raise ValidationError(f"table: must be one of {', '.join(EXPORT_TABLES)}", code="invalid_field")
    header, rows = _rows(table)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="switchboard-{table}.csv"'})


_SUPERVISOR = {"400": ERROR, "401": ERROR, "403": ERROR}
_QUERY = [{"name": "metric", "in": "query", "required": True, "schema": {"enum": list(dashboard.METRICS)}},
          {"name": "queue", "in": "query", "allowEmptyValue": True, "schema": {"type": "string"}},
          whole_number_query("agent_id"), whole_number_query("incident_id"),
          {"name": "bucket", "in": "query", "allowEmptyValue": True,
           "schema": {"type": "string", "format": "date-time"}}]
_DRILLDOWN_NOTE = ("Each metric needs its own filter: a queue for the queue figures, agent_id for the agent "
                   "figures, bucket for volume, incident_id for incidents (400 naming the one missing).")
PATHS["/api/v1/dashboard"] = {"get": {
    "operationId": "get_dashboard", "summary": "The supervisors' dashboard: queues, volume, sentiment, reply "
    "times, agents and incidents (supervisors).",
    "responses": {"200": json_body({"type": "object", "required": ["generated_at", "queues", "volume", "sentiment",
                                                                   "first_reply", "agents", "incidents"]},
                                   "Every figure."), "401": ERROR, "403": ERROR}}}
PATHS["/api/v1/dashboard/conversations"] = {"get": {
    "operationId": "list_dashboard_conversations", "summary": "The conversations behind one number (supervisors).",
    "description": _DRILLDOWN_NOTE,
    "parameters": _QUERY,
    "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {
        "data": {"type": "array", "items": {"$ref": "#/components/schemas/Conversation"}}}}, "Up to 200."),
        **_SUPERVISOR, "404": ERROR}}}
PATHS["/api/v1/dashboard/export"] = {"get": {
    "operationId": "export_dashboard", "summary": "A dashboard table as CSV; cells that would start a formula "
    "are prefixed with a quote (supervisors).",
    "description": "table=drilldown takes the drill-down's parameters: " + _DRILLDOWN_NOTE,
    "parameters": [{"name": "table", "in": "query", "required": True, "schema": {"enum": list(EXPORT_TABLES)}},
                   *[{**parameter, "required": False} for parameter in _QUERY]],
    "responses": {"200": {"description": "CSV with a header row.", "content": {"text/csv": {"schema": {
        "type": "string"}}}}, **_SUPERVISOR, "404": ERROR}}}
