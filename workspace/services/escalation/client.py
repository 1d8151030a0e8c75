"""A client for the Zendesk Tickets API subset escalation needs (create, show, update, find by external_id).

Authentication is Zendesk's: basic `email/token:TOKEN` for an API token, or an
OAuth bearer token. Nothing here reads configuration; `from_config` does.
"""

import requests

# Statuses a failing call may heal from by itself (rate limits, outages); others need a fix.
TRANSIENT_STATUSES = (408, 409, 429, 500, 502, 503, 504)


class TicketingError(Exception):
    """A call to the ticketing system failed; `status` is its HTTP status (None: never answered)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        """Tell whether trying again later may work without anyone fixing anything."""
        return self.status is None or self.status in TRANSIENT_STATUSES


class TicketingClient:
    """Talks to one Zendesk (or Zendesk-compatible) account over HTTPS."""

    def __init__(self, base_url: str, *, email: str | None = None, token: str | None = None,
                 timeout: float = 10.0, session: requests.Session | None = None):
        """Args:
            base_url: the account's root, e.g. https://acme.zendesk.com.
            email: the agent the API token belongs to (basic auth); None sends the token as a bearer.
            token: an API token (with email) or an OAuth access token (without).
            timeout: seconds each call may take before it counts as failed.
            session: a requests session to reuse connections (one is made if omitted).
        """
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "Switchboard"})
        if email:
            self.session.auth = (f"{email}/token", token or "")
        elif token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def from_config(cls, config) -> "TicketingClient":
        """A client for the ticketing system the app's configuration names."""
        return cls(config["TICKETING_URL"], email=config["TICKETING_EMAIL"], token=config["TICKETING_TOKEN"],
                   timeout=config["TICKETING_TIMEOUT_SECONDS"])

    def agent_url(self, ticket_id: int) -> str:
        """Where a person opens the ticket (Zendesk's agent interface)."""
        return f"{self.base_url}/agent/tickets/{ticket_id}"

    def create_ticket(self, ticket: dict) -> dict:
        """Create a ticket (`POST /api/v2/tickets.json`) and return it."""
        return self._call("POST", "/api/v2/tickets.json", json={"ticket": ticket})["ticket"]

    def show_ticket(self, ticket_id: int) -> dict:
        """Return one ticket (`GET /api/v2/tickets/{id}.json`)."""
        return self._call("GET", f"/api/v2/tickets/{int(ticket_id)}.json")["ticket"]

    def update_ticket(self, ticket_id: int, changes: dict) -> dict:
        """Change a ticket (`PUT /api/v2/tickets/{id}.json`), e.g. its status or a new comment; return it."""
        return self._call("PUT", f"/api/v2/tickets/{int(ticket_id)}.json", json={"ticket": changes})["ticket"]

    def find_by_external_id(self, external_id: str) -> list[dict]:
        """Return the tickets whose external_id is this one (`GET /api/v2/tickets.json?external_id=`)."""
        return self._call("GET", "/api/v2/tickets.json", params={"external_id": external_id})["tickets"]

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise TicketingError(f"{method} {path}: {type(error).__name__}: {error}") from error
        try:
            data = response.json()
        except ValueError:
            data = None
        if not response.ok or not isinstance(data, dict):
            raise TicketingError(f"{method} {path}: HTTP {response.status_code}: {_reason(data, response)}",
                                 status=response.status_code if not response.ok else 502)
        return data


def _reason(data, response: requests.Response) -> str:
    """The most telling part of an error answer: Zendesk's error, description and details."""
    if not isinstance(data, dict):
        return response.text[:200] or response.reason
    parts = [str(data.get(key)) for key in ("error", "description") if data.get(key)]
    if isinstance(data.get("details"), dict):
        parts.append("; ".join(f"{field}: {item.get('description', item)}" for field, items in data["details"].items()
                               for item in (items if isinstance(items, list) else [items])))
    return " - ".join(parts)[:500] or response.reason
