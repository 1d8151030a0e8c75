"""Sign-in, sign-out and the console shell (the console itself is static/js/pages/console/)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required, logout_user

from workspace.errors import SwitchboardError
from workspace.extensions import csrf, db
from workspace.models import NOTIFICATION_KINDS, SCOPE_MEANINGS, scopes_allowed
from workspace.services import audit
from workspace.services.conversations.new_email import email_channel_slugs
from workspace.services.notifications.settings import PRIORITIES
from workspace.services.signin import two_factor
from workspace.services.signin.passwords import check_password
from workspace.services.signin.throttle import Throttled
from workspace.web.signin import begin_second_factor, client_address, complete_sign_in, device_token, throttled_page
from workspace.web.sso import check_password_sign_in

bp = Blueprint("console", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; on POST check the password (throttled), then ask for the second factor or sign in."""
    error, status = None, 200
    if request.method == "POST":
        csrf.protect()
        try:
            agent = check_password(request.form.get("email", ""), request.form.get("password", ""),
                                   client_address(), device_token())
            check_password_sign_in(agent)
        except Throttled as failure:
            page = render_template("login.html", error=failure.message, email=request.form.get("email", ""))
            return throttled_page(current_app.make_response(page), failure)
        except SwitchboardError as failure:
            error, status = failure.message, failure.status
        else:
            remember, next_url = bool(request.form.get("remember")), request.args.get("next")
            if two_factor.enabled(agent):
                return begin_second_factor(agent, remember, next_url)
            return complete_sign_in(agent, remember, next_url)
    return render_template("login.html", error=error, email=request.form.get("email", "")), status


@bp.post("/logout")
@login_required
def logout():
    """End this session, or with `everywhere=1` every session of this agent."""
    csrf.protect()
    agent = current_user._get_current_object()
    if request.form.get("everywhere"):
        agent.session_version += 1
        audit.record(agent, "agent.sign_out_everywhere", "agent", agent.id)
        db.session.commit()
    logout_user()
    return redirect(url_for("console.login"))


@bp.get("/")
@bp.get("/conversations/<int:conversation_id>")
@login_required
def console(conversation_id: int | None = None):
    """The console shell; the script renders queues and conversations from the API."""
    return render_template("console.html", agent=current_user, email_channels=email_channel_slugs())


@bp.get("/admin")
@login_required
def admin_page():
    """Admins manage agents, queues and channels here (the page's script uses the admin API)."""
    if current_user.role != "admin":
        abort(403)
    return render_template("admin.html", agent=current_user)


@bp.get("/admin/routing")
@login_required
def admin_routing_page():
    """Admins edit routing here: the rules with a what-if replay, the priority weights, the model's versions."""
    if current_user.role != "admin":
        abort(403)
    return render_template("admin_routing.html", agent=current_user)


@bp.get("/tokens")
@login_required
def tokens_page():
    """The signed-in agent's API tokens: list, issue (the scopes their role allows) and revoke."""
    scopes = [(scope, SCOPE_MEANINGS[scope]) for scope in scopes_allowed(current_user)]
    return render_template("tokens.html", agent=current_user, scopes=scopes)


@bp.get("/account/notifications")
@login_required
def notifications_page():
    """The signed-in agent's devices that get pushes (add this one, revoke any) and what to push when."""
    return render_template("notifications.html", agent=current_user, kinds=NOTIFICATION_KINDS, priorities=PRIORITIES)


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: the console installs to a phone's home screen or a desktop."""
    icons = [{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
              "type": "image/png", "purpose": "any maskable"} for size in (192, 512)]
    response = jsonify(name="Switchboard", short_name="Switchboard", start_url="/", scope="/", display="standalone",
                       background_color="#ffffff", theme_color="#1a237e", icons=icons)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so its scope is the whole console."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline():
    """The page the service worker shows when the network is gone: says so, and reconnects by itself."""
    return render_template("offline.html")
