"""The public satisfaction survey: one signed link per conversation, one answer (no sign-in)."""

from flask import Blueprint, render_template, request

from workspace.errors import SwitchboardError
from workspace.extensions import csrf
from workspace.services import satisfaction

bp = Blueprint("survey", __name__)
THANKS = "Thank you: your answer reached the team."


@bp.route("/survey/<token>", methods=["GET", "POST"])
def survey(token: str):
    """Show the survey (or that it was answered); on POST store the one answer."""
    try:
        conversation = satisfaction.conversation_for(token)
    except SwitchboardError as error:
        return render_template("survey.html", error=error.message), error.status
    if request.method == "POST":
        csrf.protect()
        try:
            satisfaction.answer(token, request.form.get("score"), request.form.get("comment", ""))
        except SwitchboardError as error:
            already = error.code == "already_answered"
            return render_template("survey.html", error=None if already else error.message,
                                   thanks=error.message if already else None, ask=not already,
                                   subject=conversation.subject), error.status
        return render_template("survey.html", thanks=THANKS)
    if satisfaction.rating_of(conversation.id) is not None:
        return render_template("survey.html", thanks="This conversation has its answer already: thank you.")
    return render_template("survey.html", ask=True, subject=conversation.subject)
