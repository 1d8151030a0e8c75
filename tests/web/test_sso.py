"""OpenID Connect single sign-on over real HTTP against a real provider process (tests/oidc_provider.py).

Switchboard is driven through its test client; the person's side at the
provider (the authorization page) is real HTTP to the provider's process.
"""

import base64
import hashlib
import json
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from devstack.localredis import free_port
from tests.oidc_provider import CLIENT_ID, NAME, add_person, consent, running_provider, sso_settings
from workspace.extensions import db
from workspace.models import Agent, AuditEntry, Queue, SsoIdentity
from workspace.web import sso

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """One provider process for the module; each test makes its own people at it."""
    with running_provider(tmp_path_factory.mktemp("oidc"), free_port()) as issuer:
        yield issuer


@pytest.fixture
def configure(app):
    """Point the app at a provider: configure(issuer, SSO_CREATE_AGENTS=True, ...)."""

    def configure(issuer: str, **overrides) -> None:
        app.config.update(sso_settings(issuer, **overrides))

    return configure


@pytest.fixture
def ana(app):
    """Ana, an agent in billing who also has a password; returns her id."""
    with app.app_context():
        agent = Agent(email="ana@example.com", name="Ana", role="agent",
                      password_hash=generate_password_hash(PASSWORD), queues=[Queue(slug="billing", name="Billing")])
        db.session.add(agent)
        db.session.commit()
        return agent.id


def person(issuer: str, email: str, **claims) -> str:
    """A new person at the provider with a verified email (unless claims say otherwise); returns their subject."""
    subject = f"sub-{uuid.uuid4().hex[:12]}"
    add_person(issuer, subject, **{"email": email, "email_verified": True, **claims})
    return subject


def start(client, next_path: str = "/conversations/7") -> str:
    """Click "Sign in with …": returns the provider's authorization URL Switchboard sent the browser to."""
    response = client.get(f"/login/sso?next={next_path}")
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def sign_in(client, subject: str | None):
    """The whole flow: start, answer the provider as `subject` (None: Deny), come back; returns the last answer."""
    return client.get(consent(start(client), subject))


def signed_in_as(client) -> str | None:
    """The email of whoever this client's session belongs to (None when signed out)."""
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    if user_id is None:
        return None
    return db.session.get(Agent, int(user_id.split(":")[0])).email


def with_query(url: str, **changes) -> str:
    """The URL with some query parameters replaced."""
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_the_sign_in_page_offers_the_button_only_when_configured(client, configure, provider):
    """Without an issuer there is no button and /login/sso is 404; with one, the button names the provider."""
    assert b"Sign in with" not in client.get("/login").data
    assert client.get("/login/sso").status_code == 404
    configure(provider)
    page = client.get("/login?next=/conversations/3").get_data(as_text=True)
    assert f"Sign in with {NAME}" in page
    assert 'href="/login/sso?next=/conversations/3"' in page


def test_first_sign_in_links_the_agent_with_that_verified_email_then_follows_the_subject(
        app, client, configure, provider, ana, ctx):
    """Ana's provider account (any case of her email) becomes hers; later it signs her in even with a new email."""
    configure(provider)
    subject = person(provider, "Ana@Example.com", name="Ana Lima")
    answer = sign_in(client, subject)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/conversations/7"
    assert signed_in_as(client) == "ana@example.com"
    link = db.session.scalar(sa.select(SsoIdentity))
    assert (link.agent_id, link.issuer, link.subject, link.email) == (ana, provider, subject, "ana@example.com")
    assert client.get("/api/v1/queues").status_code == 200

    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert signed_in_as(client) is None
    add_person(provider, subject, email="ana.lima@example.org", email_verified=True)
    assert sign_in(client, subject).status_code == 302
    assert signed_in_as(client) == "ana@example.com"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SsoIdentity)) == 1
    assert db.session.scalar(sa.select(SsoIdentity.email)) == "ana.lima@example.org"
    actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.agent_id == ana)
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["agent.link_sso", "agent.sign_in_sso", "agent.sign_in_sso"]


def csrf_token(client) -> str:
    """A CSRF token of this client's session (from the console page's meta tag)."""
    page = client.get("/").get_data(as_text=True)
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def test_the_request_carries_pkce_state_and_nonce(app, client, configure, provider):
    """The authorization request asks for openid and email, with an S256 challenge of the session's verifier."""
    configure(provider)
    query = parse_qs(urlsplit(start(client)).query)
    with client.session_transaction() as session:
        flow = session[sso.SESSION_KEY]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(flow["verifier"].encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [challenge]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [flow["state"]] and query["nonce"] == [flow["nonce"]]
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    assert {"openid", "email"} <= set(query["scope"][0].split())
    assert flow["next"] == "/conversations/7"


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/x"])
def test_sign_in_never_returns_to_another_site(client, configure, provider, ana, next_path):
    """A `next` pointing off-site lands on the console instead."""
    configure(provider)
    subject = person(provider, "ana@example.com")
    answer = client.get(consent(start(client, next_path), subject))
    assert answer.headers["Location"] == "/"


def test_unknown_people_are_refused_unless_agents_are_created(app, client, configure, provider, ctx):
    """Without provisioning a stranger gets a clear 403 and nothing is written; with it, an agent in no queue."""
    configure(provider)
    subject = person(provider, "newcomer@example.com", name="New Comer")
    answer = sign_in(client, subject)
    assert answer.status_code == 403
    assert "no Switchboard account uses newcomer@example.com" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Agent)) == 0

    configure(provider, SSO_CREATE_AGENTS=True)
    assert sign_in(client, subject).status_code == 302
    agent = db.session.scalar(sa.select(Agent))
    assert (agent.email, agent.name, agent.role, agent.queues, agent.password_hash) == (
        "newcomer@example.com", "New Comer", "agent", [], None)
    assert signed_in_as(client) == "newcomer@example.com"
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["agent.create_by_sso", "agent.link_sso", "agent.sign_in_sso"]


@pytest.mark.parametrize("claims", [{"email_verified": False}, {"email_verified": None}, {"email_verified": "no"}])
def test_an_unverified_email_is_refused(app, client, configure, provider, ana, ctx, claims):
    """Even for an existing agent's address, an email the provider has not verified signs no one in."""
    configure(provider, SSO_CREATE_AGENTS=True)
    subject = person(provider, "ana@example.com", **claims)
    answer = sign_in(client, subject)
    assert answer.status_code == 403
    assert "has not verified ana@example.com" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SsoIdentity)) == 0


def test_an_account_without_email_is_refused(client, configure, provider, ctx):
    """A provider account with no email at all gets a clear 403."""
    configure(provider, SSO_CREATE_AGENTS=True)
    subject = f"sub-{uuid.uuid4().hex[:12]}"
    add_person(provider, subject, name="No Mail")
    answer = sign_in(client, subject)
    assert answer.status_code == 403
    assert "sent no email address" in answer.get_data(as_text=True)


def test_only_allowed_domains_get_in(app, client, configure, provider, ana, ctx):
    """With allowed domains set, a verified address elsewhere is refused, even an existing agent's."""
    configure(provider, SSO_ALLOWED_DOMAINS=["staff.example"], SSO_CREATE_AGENTS=True)
    answer = sign_in(client, person(provider, "ana@example.com"))
    assert answer.status_code == 403
    assert "ana@example.com is not in a domain allowed to sign in here" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None
    assert sign_in(client, person(provider, "zoe@STAFF.example")).status_code == 302
    assert signed_in_as(client) == "zoe@staff.example"


def test_a_deactivated_agent_cannot_get_in(app, client, configure, provider, ana, ctx):
    """Deactivating Ana shuts her out of single sign-on too, linked or not."""
    configure(provider)
    subject = person(provider, "ana@example.com")
    assert sign_in(client, subject).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    db.session.get(Agent, ana).active = False
    db.session.commit()
    answer = sign_in(client, subject)
    assert answer.status_code == 403
    assert "this account is deactivated" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_tampered_or_replayed_state_is_refused(client, configure, provider, ana):
    """A callback whose state is not the one this browser was given, or comes a second time, signs no one in."""
    configure(provider)
    callback = consent(start(client), person(provider, "ana@example.com"))
    forged = client.get(with_query(callback, state="forged-state"))
    assert forged.status_code == 400
    assert "was tampered with" in forged.get_data(as_text=True)
    assert signed_in_as(client) is None

    callback = consent(start(client), person(provider, "ana@example.com"))
    assert client.get(callback).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    replayed = client.get(callback)
    assert replayed.status_code == 400
    assert signed_in_as(client) is None


def test_a_callback_this_browser_never_started_is_refused(app, configure, provider, ana):
    """A code and state fixed up by someone else (login CSRF) mean nothing in another browser."""
    configure(provider)
    attacker, victim = app.test_client(), app.test_client()
    callback = consent(start(attacker), person(provider, "ana@example.com"))
    answer = victim.get(callback)
    assert answer.status_code == 400
    assert signed_in_as(victim) is None


def test_an_id_token_for_another_sign_in_request_is_refused(client, configure, provider, ana):
    """A nonce changed on the way to the provider ends up in the ID token, which then answers another request."""
    configure(provider)
    authorize = with_query(start(client), nonce="someone-elses-nonce")
    answer = client.get(consent(authorize, person(provider, "ana@example.com")))
    assert answer.status_code == 401
    assert "it answers another sign-in request" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_denied_consent_is_said_plainly(client, configure, provider):
    """Pressing Deny at the provider brings a clear 403 page back, not an error."""
    configure(provider)
    answer = sign_in(client, None)
    assert answer.status_code == 403
    assert f"{NAME} did not let you in" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_a_provider_error_is_shown_with_its_description(client, configure, provider):
    """Any other error the provider sends back is shown (escaped, cut short) with a 502."""
    configure(provider)
    callback = consent(start(client), None)
    answer = client.get(with_query(callback, error="server_error", error_description="<b>down</b> " + "x" * 500))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 502
    assert "&lt;b&gt;down&lt;/b&gt;" in page and "x" * 300 not in page


def test_a_code_issued_to_another_application_is_refused(client, configure, provider, ana):
    """A code the provider gave another client, slipped into our callback, is refused by the token endpoint."""
    configure(provider)
    ours = start(client)
    theirs = with_query(ours, client_id="another-app")
    code = parse_qs(urlsplit(consent(theirs, person(provider, "ana@example.com"))).query)["code"][0]
    state = parse_qs(urlsplit(ours).query)["state"][0]
    answer = client.get("/login/sso/callback?" + urlencode({"code": code, "state": state}))
    assert answer.status_code == 502
    assert f"{NAME} refused the sign-in code" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def test_provider_down_gives_a_clear_page(client, configure, tmp_path, ana):
    """Nothing listening at the issuer: 503 on the way out; the provider dying mid-flow: 503 on the way back."""
    configure(f"http://127.0.0.1:{free_port()}")
    answer = client.get("/login/sso")
    assert answer.status_code == 503
    assert f"{NAME} cannot be reached right now" in answer.get_data(as_text=True)

    with running_provider(tmp_path, free_port()) as issuer:
        configure(issuer)
        callback = consent(start(client), person(issuer, "ana@example.com"))
    answer = client.get(callback)
    assert answer.status_code == 503
    assert signed_in_as(client) is None


def test_an_expired_id_token_is_refused(client, configure, tmp_path, ana):
    """A provider whose tokens are already past their expiry (a clock ten minutes behind) signs no one in."""
    with running_provider(tmp_path, free_port(), "--token-max-age", "-600") as issuer:
        configure(issuer)
        answer = sign_in(client, person(issuer, "ana@example.com"))
    assert answer.status_code == 401
    assert "had already expired" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None


def id_token_from_provider(issuer: str, client_id: str, nonce: str, subject: str) -> str:
    """Run the code flow directly as `client_id` and return the provider's real ID token."""
    redirect_uri = "http://127.0.0.1/callback"
    authorize = f"{issuer}/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid email",
        "state": "s", "nonce": nonce})
    code = parse_qs(urlsplit(consent(authorize, subject)).query)["code"][0]
    tokens = requests.post(f"{issuer}/oauth2/token", auth=(client_id, "secret"), timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}).json()
    return tokens["id_token"]


def test_id_tokens_issued_to_another_application_or_altered_are_refused(app, configure, provider):
    """The provider's own token for another client fails the audience check; a changed claim fails the signature."""
    configure(provider)
    subject = person(provider, "ana@example.com")
    theirs = id_token_from_provider(provider, "another-app", "n-1", subject)
    ours = id_token_from_provider(provider, CLIENT_ID, "n-2", subject)
    with app.test_request_context():
        metadata = sso.provider_metadata()
        assert sso.verify_id_token(ours, metadata, "n-2")["sub"] == subject
        with pytest.raises(sso.SsoFailure) as refused:
            sso.verify_id_token(theirs, metadata, "n-1")
        assert refused.value.code == "invalid_aud"

        header, payload, signature = ours.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["email"] = "root@example.com"
        altered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        with pytest.raises(sso.SsoFailure) as refused:
            sso.verify_id_token(f"{header}.{altered}.{signature}", metadata, "n-2")
        assert refused.value.code == "bad_signature"
        with pytest.raises(sso.SsoFailure) as refused:
            sso.verify_id_token("not-a-token", metadata, "n-2")
        assert refused.value.code == "invalid_token"


def test_sso_only_refuses_passwords_except_admins(app, client, configure, provider, ana, ctx):
    """With SSO only, Ana's right password is refused with a pointer to the button; an admin's still works."""
    configure(provider, SSO_ONLY=True)
    db.session.add(Agent(email="root@example.com", name="Root", role="admin",
                         password_hash=generate_password_hash(PASSWORD)))
    db.session.commit()
    token = login_csrf(client)
    refused = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 403
    assert f"use “Sign in with {NAME}”" in refused.get_data(as_text=True)
    assert signed_in_as(client) is None
    wrong = client.post("/login", data={"email": "ana@example.com", "password": "wrong", "csrf_token": token})
    assert wrong.status_code == 401
    admin = client.post("/login", data={"email": "root@example.com", "password": PASSWORD, "csrf_token": token})
    assert admin.status_code == 302
    assert signed_in_as(client) == "root@example.com"


def login_csrf(client) -> str:
    """A CSRF token from the sign-in form."""
    page = client.get("/login").get_data(as_text=True)
    return page.split('name="csrf_token" value="')[1].split('"')[0]
