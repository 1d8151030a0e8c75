"""The second-factor step of signing in, and each agent's own security page (turning TOTP on and off)."""

import segno
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workspace.errors import SwitchboardError
from workspace.extensions import csrf
from workspace.services.signin import two_factor
from workspace.services.signin.throttle import Throttled
from workspace.web.signin import client_address, complete_sign_in, known_device, pending_agent, throttled_page

bp = Blueprint("security", __name__)


@bp.route("/login/code", methods=["GET", "POST"])
def enter_code():
    """Ask for the authenticator code (or a recovery code) after a right password; on a right one, sign in."""
    pending = pending_agent()
    if pending is None:
        return redirect(url_for("console.login"))
    agent, state = pending
    error, status = None, 200
    if request.method == "POST":
        csrf.protect()
        try:
            how = two_factor.verify(agent, request.form.get("code", ""), client_address(), known_device(agent))
        except Throttled as failure:
            page = render_template("login_code.html", error=failure.message)
            return throttled_page(current_app.make_response(page), failure)
        except SwitchboardError as failure:
            error, status = failure.message, failure.status
        else:
            return complete_sign_in(agent, state["remember"], state["next"], how=f"password+{how}")
    return render_template("login_code.html", error=error), status


@bp.get("/account/security")
@login_required
def security_page():
    """The agent's own security settings: whether two-factor sign-in is on, and how to change that."""
    return _page()


@bp.post("/account/security/two-factor/start")
@login_required
def start_two_factor():
    """Make a new secret and show it (as a QR code and as text) with a field to confirm a code from it."""
    csrf.protect()
    try:
        two_factor.start_enrolment(current_user._get_current_object())
    except SwitchboardError as failure:
        return _page(error=failure.message, status=failure.status)
    return _page()


@bp.post("/account/security/two-factor/confirm")
@login_required
def confirm_two_factor():
    """Turn two-factor sign-in on once a code from the new secret is right; show the recovery codes once."""
    csrf.protect()
    agent = current_user._get_current_object()
    try:
        codes = two_factor.confirm_enrolment(agent, request.form.get("code", ""), client_address(),
                                             known_device(agent))
    except SwitchboardError as failure:
        return _page(error=failure)
    return _page(recovery_codes=codes)


@bp.post("/account/security/two-factor/disable")
@login_required
def disable_two_factor():
    """Turn two-factor sign-in off, proven by the password or a current code."""
    csrf.protect()
    agent = current_user._get_current_object()
    try:
        two_factor.disable(agent, password=request.form.get("password", ""), code=request.form.get("code", ""),
                           address=client_address(), device=known_device(agent))
    except SwitchboardError as failure:
        return _page(error=failure)
    return _page(notice="Two-factor sign-in is off.")


def _page(error: SwitchboardError | str | None = None, status: int = 200, **shown):
    """Render the security page in its current state, with an error (and its status) if there was one."""
    agent = current_user._get_current_object()
    enrolling = not two_factor.enabled(agent) and bool(agent.totp_secret)
    uri = two_factor.provisioning_uri(agent) if enrolling else None
    qr = segno.make(uri, error="m").svg_inline(scale=4, border=4, svgclass="qr", omitsize=False,
                                                title="QR code of the setup link") if uri else None
    if isinstance(error, SwitchboardError):
        message, status = error.message, error.status
    else:
        message = error
    page = render_template(
        "security.html", agent=agent, enabled=two_factor.enabled(agent), enrolling=enrolling, uri=uri, qr=qr,
        secret=agent.totp_secret if enrolling else None, error=message,
        codes_left=two_factor.recovery_codes_left(agent) if two_factor.enabled(agent) else None, **shown)
    response = current_app.make_response((page, status))
    if isinstance(error, Throttled):
        throttled_page(response, error)
    response.headers["Cache-Control"] = "no-store"  # secrets and recovery codes stay out of caches
    return response
