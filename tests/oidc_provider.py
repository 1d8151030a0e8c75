"""A real OpenID Connect provider for the single sign-on tests: oidc-provider-mock, run as its own process.

It speaks the real protocol (discovery, authorization code flow, token endpoint,
RS256 ID tokens signed with a key it makes at start and publishes as JWKS). Its
authorization page asks who signs in (a subject) with Authorize and Deny
buttons; `PUT /users/<sub>` sets the claims that person's ID tokens carry.
"""

import contextlib
import json
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
import requests

from devstack.launcher import stop_process
from tests.factories import ROOT, wait_for

# What Switchboard is registered as at the provider in the tests (the provider accepts any client).
CLIENT_ID = "switchboard"
CLIENT_SECRET = "sso-client-secret"
NAME = "Acme ID"


def sso_settings(issuer: str, **overrides) -> dict:
    """Switchboard's SSO settings pointing at a provider, as config keys."""
    return dict(SSO_ISSUER=issuer, SSO_CLIENT_ID=CLIENT_ID, SSO_CLIENT_SECRET=CLIENT_SECRET, SSO_NAME=NAME,
                SSO_TIMEOUT_SECONDS=5.0, **overrides)


def sso_env(issuer: str, **overrides) -> dict:
    """The same settings as environment variables, for Switchboard's processes."""
    return {f"SWITCHBOARD_{key}": str(value) for key, value in sso_settings(issuer, **overrides).items()}


@contextlib.contextmanager
def running_provider(folder, port: int, *args: str):
    """Run the provider on a port (extra command-line options after the port); yield its issuer URL."""
    path = folder / f"oidc-provider-{port}.log"
    with open(path, "a") as log:
        process = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port), *args],
                                   cwd=ROOT, env=dict(os.environ, NO_COLOR="1"), stdout=log, stderr=log,
                                   start_new_session=True)
        issuer = f"http://127.0.0.1:{port}"
        try:
            if not wait_for(lambda: _discovery_answers(issuer), timeout=30):
                pytest.fail(f"the OIDC provider did not start:\n{path.read_text()}")
            yield issuer
        finally:
            stop_process(process)


def _discovery_answers(issuer: str) -> bool:
    """Tell whether the provider serves its discovery document yet."""
    try:
        return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def add_person(issuer: str, subject: str, **claims) -> None:
    """Tell the provider who `subject` is: the claims their ID tokens carry (email, email_verified, name, ...)."""
    response = requests.put(f"{issuer}/users/{quote(subject, safe='')}", data=json.dumps(claims),
                            headers={"Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 204, response.text


def consent(authorize_url: str, subject: str | None = None) -> str:
    """Answer the provider's authorization page as a person would: sign in as `subject`, or Deny when None.

    Returns:
        Where the provider sends the browser back (Switchboard's callback, with code or error, and state).
    """
    form = {"sub": subject} if subject else {"action": "deny"}
    answer = requests.post(authorize_url, data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]
