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
import time
from urllib.parse import quote

import pytest
import requests

from tests.factories import ROOT

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
    log = open(folder / f"oidc-provider-{port}.log", "a")
    env = dict(os.environ, NO_COLOR="1")
    process = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port), *args], cwd=ROOT,
                               env=env, stdout=log, stderr=log, start_new_session=True)
    issuer = f"http://127.0.0.1:{port}"
    try:
        if not _wait_for_discovery(issuer):
            pytest.fail("the OIDC provider did not start:\n" + (folder / f"oidc-provider-{port}.log").read_text())
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_discovery(issuer: str, timeout: float = 30.0) -> bool:
    """Poll the discovery document until it answers or the time runs out; tell which."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
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
