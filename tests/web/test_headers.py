"""Security headers on every answer, and templates the Content-Security-Policy can run unchanged."""

import re
from pathlib import Path

import pytest

from tests.factories import ROOT, make_post
from tests.supervision import bearer, make_agent, sign_in
from workspace.web.headers import CONTENT_SECURITY_POLICY

EXPECTED = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
TEMPLATES = sorted((ROOT / "workspace" / "templates").glob("*.html"))


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header as {directive: [sources]}."""
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


def assert_secured(response) -> None:
    """The response carries the CSP, anti-framing, nosniff and referrer headers."""
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    policy = directives(response.headers.get("Content-Security-Policy", ""))
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert not any("'unsafe-inline'" in sources or "'unsafe-eval'" in sources or "*" in sources
                   for sources in policy.values())


@pytest.fixture
def admin_token(ctx, channel):
    """Rosa, an admin who can sign in to the console; returns her API token."""
    return make_agent("admin", "Rosa", ("billing",))[1]


def test_the_policy_allows_scripts_only_from_our_origin():
    """No inline script, no eval, no framing: what the header promises."""
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == ["'self'"] and policy["style-src"] == ["'self'"]


def test_pages_carry_the_headers(client, admin_token):
    """The sign-in page, the console, the admin page, the dashboard and the weekly report."""
    assert_secured(client.get("/login"))
    sign_in(client, "rosa@example.com")
    for path in ("/", "/admin", "/dashboard", "/qa", "/reviews", "/reports/weekly"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secured(response)


def test_api_answers_and_errors_carry_the_headers(client, admin_token):
    """A JSON answer, a 401, a 404 from routing and a domain 404 all have them."""
    for response in (client.get("/api/v1/queues", headers=bearer(admin_token)), client.get("/api/v1/queues"),
                     client.get("/api/v1/nowhere", headers=bearer(admin_token)),
                     client.get("/api/v1/authors/424242", headers=bearer(admin_token))):
        assert response.status_code in (200, 401, 404)
        assert_secured(response)


def test_webhooks_health_and_static_files_carry_the_headers(client, deliver):
    """Answers to machines and the console's own scripts are covered too."""
    assert_secured(deliver(make_post()))
    assert_secured(deliver(make_post(), secret="wrong"))
    with client.get("/static/js/lib/dom.js") as script:
        assert_secured(script)
    assert_secured(client.get("/ping"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_have_no_inline_script_handler_or_style(template: Path):
    """Every script is a file from /static; no on...= handler, style attribute or javascript: URL (the CSP refuses)."""
    html = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE):
        assert re.search(r"\bsrc=", tag), f"inline script: {tag}"
    for tag in re.findall(r"<[a-zA-Z][^>]*>", html):
        assert not re.search(r"\son[a-z]+\s*=", tag, re.IGNORECASE), f"inline handler: {tag}"
        assert not re.search(r"\sstyle\s*=", tag, re.IGNORECASE), f"style attribute: {tag}"
    assert "javascript:" not in html.lower()
    assert not re.search(r"<style\b", html, re.IGNORECASE)
