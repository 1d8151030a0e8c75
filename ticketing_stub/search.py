"""The stub's Zendesk Search API subset: `GET /api/v2/search.json?query=type:ticket external_id:17`.

A query is words and `property:value` terms (a value may be "quoted"), all of which
must hold, as in Zendesk: `type` (only tickets are searched; another type finds
nothing), `external_id`, `status`, `priority`, `ticket_type`, `subject`, `tags`
(or `tag`); a bare word matches the subject or description. Zendesk's other
operators (`<`, `>`, `-`) are not served: a 400 says so rather than a wrong answer.
"""

import re
from urllib.parse import urlencode

from flask import jsonify, request

from ticketing_stub.api import MAX_PER_PAGE, ApiError, bp, positive_number, present, store

# Zendesk property -> the ticket column it compares.
PROPERTIES = {"external_id": "external_id", "status": "status", "priority": "priority", "ticket_type": "type",
              "subject": "subject"}
TERM = re.compile(r'(?:(?P<key>\w+)(?P<op>:|<=|>=|<|>))?(?:"(?P<quoted>[^"]*)"|(?P<bare>\S+))')


def parse_query(query: str) -> tuple[str | None, dict[str, str], list[str], list[str]]:
    """Split a search query into (type, property values, tags, words); a term the stub cannot serve is a 400."""
    kind, equal, tags, words = None, {}, [], []
    for term in TERM.finditer(query):
        key, value = term["key"], term["quoted"] if term["quoted"] is not None else term["bare"]
        if key is None:
            words.append(value)
        elif term["op"] != ":":
            raise ApiError(400, "InvalidSearchQuery", f"{key}{term['op']}: the stub serves property:value only")
        elif key == "type":
            kind = value.lower()
        elif key in ("tags", "tag"):
            tags.append(value)
        elif key in PROPERTIES:
            equal[PROPERTIES[key]] = value
        else:
            raise ApiError(400, "InvalidSearchQuery", f"{key}: not a property the stub searches "
                                                      f"({', '.join(['type', 'tags', *PROPERTIES])})")
    return kind, equal, tags, words


@bp.get("/search.json")
def search_tickets():
    """Tickets matching `query`, as Zendesk's search answers: results (each with result_type), count, pages."""
    query = request.args.get("query", "")
    if not query.strip():
        raise ApiError(400, "InvalidSearchQuery", "query: is required")
    page, per_page = positive_number("page", 1), positive_number("per_page", MAX_PER_PAGE)
    if per_page > MAX_PER_PAGE:
        raise ApiError(400, "InvalidPaginationParameter", f"per_page must be at most {MAX_PER_PAGE}")
    kind, equal, tags, words = parse_query(query)
    rows, count = [], 0
    if kind in (None, "ticket"):
        rows, count = store().search(equal=equal, tags=tags, words=words, offset=(page - 1) * per_page,
                                     limit=per_page)

    def link(number: int) -> str:
        return f"{request.host_url.rstrip('/')}{request.path}?" + urlencode(
            {"query": query, "page": number, "per_page": per_page})

    return jsonify(results=[{**present(row), "result_type": "ticket"} for row in rows], count=count, facets=None,
                   next_page=link(page + 1) if page * per_page < count else None,
                   previous_page=link(page - 1) if page > 1 else None)
