"""Status-change webhooks from the stub, signed the way Zendesk signs them, retried on failure.

The body is what a Zendesk admin would configure in a trigger's webhook action
(see the README), so Switchboard handles the stub and a real Zendesk alike.
"""

import json
import logging
import threading
import time

import requests
from flask import Flask

from workspace.services.escalation.signature import signed_headers

log = logging.getLogger(__name__)
# Answers after which Zendesk tries a webhook again; any other failure is final.
RETRY_STATUSES = (409, 429, 500, 502, 503, 504)


def status_changed(app: Flask, ticket: dict, previous_status: str) -> None:
    """Send a ticket's new status (and its latest public comment) to the configured webhook URL, in the
    background (the change is committed)."""
    url = app.config["TICKETS_WEBHOOK_URL"]
    if not url:
        return
    public = [comment["body"] for comment in app.extensions["ticket_store"].comments(ticket["id"]) if comment["public"]]
    body = json.dumps({"ticket": {
        "id": ticket["id"], "external_id": ticket["external_id"], "status": ticket["status"],
        "previous_status": previous_status, "subject": ticket["subject"], "updated_at": ticket["updated_at"],
        "latest_public_comment": public[-1] if public else "",
    }}).encode()
    thread = threading.Thread(target=deliver, args=(app, url, ticket["id"], body), daemon=True,
                              name=f"webhook-{ticket['id']}")
    thread.start()


def deliver(app: Flask, url: str, ticket_id: int, body: bytes) -> str:
    """POST one webhook until it is accepted or the retries run out; the outcome is kept on the ticket."""
    delays = [0, *app.config["TICKETS_WEBHOOK_RETRY_SECONDS"]]
    outcome = "not sent"
    for attempt, delay in enumerate(delays, start=1):
        time.sleep(delay)
        # Signed per attempt: a retry carries a fresh timestamp, as Zendesk's do.
        headers = {"Content-Type": "application/json",
                   **signed_headers(app.config["TICKETS_WEBHOOK_SECRET"], body)}
        try:
            response = requests.post(url, data=body, headers=headers, timeout=10)
        except requests.RequestException as error:
            outcome = f"attempt {attempt}: {type(error).__name__}"
        else:
            outcome = f"attempt {attempt}: HTTP {response.status_code}"
            if response.status_code < 300 or response.status_code not in RETRY_STATUSES:
                break
        log.warning("ticket %s status webhook failed (%s)", ticket_id, outcome)
    app.extensions["ticket_store"].note_webhook(ticket_id, outcome)
    return outcome
