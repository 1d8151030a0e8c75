"""OpenID Connect single sign-on: the authorization code flow with PKCE against the configured provider.

`GET /login/sso` finds the provider's endpoints (discovery), remembers a fresh
state, nonce and PKCE verifier in the session and sends the browser to the
provider. `GET /login/sso/callback` checks the state, trades the code (with the
verifier) for tokens, verifies the ID token's signature against the provider's
keys and its issuer, audience, expiry and nonce, then signs in the agent the
identity belongs to (workspace/services/sso.py). Whatever goes wrong is shown
on the sign-in page with the reason, never as a server error.
"""

import functools
import secrets
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import login_user
from joserfc import jwt
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.models import Agent, has_role
from workspace.services import sso as accounts
from workspace.web.auth import safe_next

bp = Blueprint("sso", __name__)

# Where the flow in progress waits in the (signed) session cookie between the two requests.
SESSION_KEY = "sso_flow"
SCOPES = "openid email profile"
# Asymmetric signatures only: never "none", never an HMAC keyed with the client secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
# Seconds of clock difference with the provider tolerated on exp, iat and nbf.
LEEWAY_SECONDS = 60
# Provider-supplied error text shown on the page is cut to this many characters.
MAX_PROVIDER_TEXT = 200


class SsoFailure(SwitchboardError):
    """Single sign-on could not complete; the message says why in words for the person signing in."""

    status = 502
    code = "sso_failed"


def sso_enabled() -> bool:
    """Tell whether single sign-on is configured (an issuer and a client id)."""
    return bool(current_app.config.get("SSO_ISSUER") and current_app.config.get("SSO_CLIENT_ID"))


def check_password_sign_in(agent: Agent) -> None:
    """Refuse a correct password when the installation is SSO-only and the agent is not an admin."""
    if current_app.config.get("SSO_ONLY") and sso_enabled() and not has_role(agent, "admin"):
        raise SwitchboardError(f"password sign-in is turned off here: use “Sign in with "
                               f"{current_app.config['SSO_NAME']}”", code="sso_only", status=403)


def _shown_as_page(view):
    """Show a failed sign-in on the sign-in page with its reason and status (never the JSON envelope)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except SwitchboardError as failure:
            db.session.rollback()
            current_app.logger.info("single sign-on refused: %s (%s)", failure.code, failure.message)
            return render_template("login.html", error=failure.message, email=""), failure.status

    return wrapped


@bp.get("/login/sso")
@_shown_as_page
def start_sso():
    """Send the browser to the provider with a new state, nonce and PKCE challenge."""
    if not sso_enabled():
        abort(404)
    metadata = provider_metadata()
    flow = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
            "verifier": secrets.token_urlsafe(64), "next": safe_next(request.args.get("next"))}
    url, _ = _client().create_authorization_url(
        metadata["authorization_endpoint"], state=flow["state"], nonce=flow["nonce"], code_verifier=flow["verifier"])
    session[SESSION_KEY] = flow
    return redirect(url)


@bp.get("/login/sso/callback")
@_shown_as_page
def finish_sso():
    """Check the provider's answer, verify its ID token and sign the agent in."""
    if not sso_enabled():
        abort(404)
    # One use only: a replayed or second callback finds nothing to match.
    flow = session.pop(SESSION_KEY, None)
    name = current_app.config["SSO_NAME"]
    # An error signs no one in, so it is shown even when the provider leaves the state off (some do on Deny).
    if "error" in request.args:
        if request.args["error"] == "access_denied":
            raise SsoFailure(f"{name} did not let you in (access was denied or cancelled)", code="access_denied",
                             status=403)
        detail = request.args.get("error_description") or request.args["error"]
        raise SsoFailure(f"{name} refused the sign-in: {detail[:MAX_PROVIDER_TEXT]}", code="provider_error")
    state = request.args.get("state", "")
    if not isinstance(flow, dict) or not secrets.compare_digest(state.encode(), str(flow.get("state")).encode()):
        raise SsoFailure("this sign-in was not started here, was already used, or was tampered with; "
                         "start again with the button below", code="bad_state", status=400)
    code = request.args.get("code")
    if not code:
        raise SsoFailure(f"{name} sent no authorization code", code="provider_error", status=400)
    metadata = provider_metadata()
    id_token = _exchange_code(metadata, code, flow["verifier"])
    claims = verify_id_token(id_token, metadata, flow["nonce"])
    config = current_app.config
    agent = accounts.sign_in(accounts.identity_from_claims(metadata["issuer"], claims),
                             accounts.SsoPolicy(tuple(config["SSO_ALLOWED_DOMAINS"]), config["SSO_CREATE_AGENTS"]))
    login_user(agent)
    return redirect(flow["next"])


def _client() -> OAuth2Session:
    """An OAuth 2.0 client for this installation, doing PKCE with S256."""
    config = current_app.config
    return OAuth2Session(
        config["SSO_CLIENT_ID"], config.get("SSO_CLIENT_SECRET"), scope=SCOPES,
        redirect_uri=url_for("sso.finish_sso", _external=True), code_challenge_method="S256",
        # Without a secret this is a public client: PKCE alone proves the code is ours.
        token_endpoint_auth_method="client_secret_basic" if config.get("SSO_CLIENT_SECRET") else "none")


def _get_json(url: str, what: str) -> dict:
    """GET a JSON object from the provider, or fail saying the provider could not be reached."""
    name = current_app.config["SSO_NAME"]
    try:
        response = requests.get(url, timeout=current_app.config["SSO_TIMEOUT_SECONDS"])
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning("single sign-on: fetching %s from %s failed: %s", what, url, error)
        fallback = "" if current_app.config.get("SSO_ONLY") else ", or sign in with your password"
        raise SsoFailure(f"{name} cannot be reached right now; try again later{fallback}",
                         code="provider_unavailable", status=503) from error
    if not isinstance(document, dict):
        raise SsoFailure(f"{name} answered with an unusable {what}", code="provider_error")
    return document


def provider_metadata() -> dict:
    """The provider's discovery document, checked to be for the configured issuer."""
    issuer = current_app.config["SSO_ISSUER"]
    metadata = _get_json(f"{issuer}/.well-known/openid-configuration", "discovery document")
    # OpenID Connect Discovery 1.0 §4.3: the document must be for the issuer it was fetched from.
    if metadata.get("issuer") != issuer and metadata.get("issuer") != f"{issuer}/":
        raise SsoFailure(f"{current_app.config['SSO_NAME']} describes itself as another issuer; "
                         "check SWITCHBOARD_SSO_ISSUER", code="provider_error")
    endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(metadata.get(key), str) and urlsplit(metadata[key]).scheme in ("https", "http")
               for key in endpoints):
        raise SsoFailure(f"{current_app.config['SSO_NAME']}'s discovery document lacks its endpoints",
                         code="provider_error")
    return metadata


def _exchange_code(metadata: dict, code: str, verifier: str) -> str:
    """Trade the authorization code and PKCE verifier for tokens; return the ID token."""
    name = current_app.config["SSO_NAME"]
    client = _client()
    try:
        token = client.fetch_token(metadata["token_endpoint"], code=code, code_verifier=verifier,
                                   timeout=current_app.config["SSO_TIMEOUT_SECONDS"])
    except OAuthError as error:
        raise SsoFailure(f"{name} refused the sign-in code ({str(error.error)[:MAX_PROVIDER_TEXT]}); start again",
                         code="token_refused") from error
    except (requests.RequestException, ValueError) as error:
        raise SsoFailure(f"{name} cannot be reached right now; try again later", code="provider_unavailable",
                         status=503) from error
    finally:
        client.close()
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoFailure(f"{name} sent no ID token", code="provider_error")
    return id_token


def verify_id_token(id_token: str, metadata: dict, nonce: str) -> dict:
    """Check the ID token's signature against the provider's keys, then its issuer, audience, expiry and nonce.

    Returns:
        The token's claims.
    """
    name = current_app.config["SSO_NAME"]
    client_id = current_app.config["SSO_CLIENT_ID"]
    try:
        keys = KeySet.import_key_set(_get_json(metadata["jwks_uri"], "key set"))
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS, iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": client_id}, sub={"essential": True}, exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except ExpiredTokenError as error:
        raise SsoFailure(f"the sign-in from {name} had already expired (are the clocks right?); start again",
                         code="token_expired", status=401) from error
    except BadSignatureError as error:
        raise SsoFailure(f"the sign-in was not signed by {name}'s keys", code="bad_signature",
                         status=401) from error
    except ClaimError as error:
        reason = {"aud": "it was issued to another application", "nonce": "it answers another sign-in request",
                  "iss": "it was issued by another provider"}.get(error.claim, f"its '{error.claim}' is wrong")
        raise SsoFailure(f"the sign-in from {name} was refused: {reason}", code=f"invalid_{error.claim}",
                         status=401) from error
    except (JoseError, KeyError, ValueError, TypeError) as error:
        raise SsoFailure(f"the sign-in from {name} was not a valid ID token", code="invalid_token",
                         status=401) from error
    # Several audiences: the token must say it was issued to us (OpenID Connect Core §3.1.3.7).
    audiences = token.claims["aud"]
    if isinstance(audiences, list) and len(audiences) > 1 and token.claims.get("azp") != client_id:
        raise SsoFailure(f"the sign-in from {name} was refused: it was issued to another application",
                         code="invalid_aud", status=401)
    return token.claims


def init_app(app: Flask) -> None:
    """Register the flow and tell every page whether to offer the single sign-on button."""
    app.register_blueprint(bp)

    @app.context_processor
    def sso_button() -> dict:
        """The provider's name for the sign-in button, or None to show no button."""
        return {"sso_name": app.config["SSO_NAME"] if sso_enabled() else None}
