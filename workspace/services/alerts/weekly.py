"""The weekly report by email: once a week, at the admins' weekday and hour (UTC), the last complete week's
report as text and HTML to the recipients.

The scheduler's periodic job asks often; the week is claimed in the settings row (a conditional update of
the last week sent) before the mail goes, so a restarted or doubled scheduler sends it once. A relay that
refuses the mail gives the claim back, and the next run tries again.
"""

import logging
import smtplib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template

from workspace.extensions import db
from workspace.models import ALERT_SETTINGS_ID, AlertSettings, utcnow
from workspace.services.alerts.settings import current
from workspace.services.notifications.mail import AUTO_GENERATED, relay
from workspace.services.supervision.reports import week_label, weekly_report

log = logging.getLogger(__name__)


class ReportFailed(Exception):
    """The relay did not take the weekly report; the next run sends it."""


def due_week(settings: AlertSettings, now: datetime) -> datetime | None:
    """The start of the week whose report is due now, or None (off, nobody to send to, not yet the hour, or
    sent already)."""
    if not settings.report_enabled or not settings.report_recipients:
        return None
    this_monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    if now < this_monday + timedelta(days=settings.report_weekday, hours=settings.report_hour):
        return None
    start = this_monday - timedelta(weeks=1)
    return None if settings.report_last_week == week_label(start) else start


def compose(start: datetime, recipients: list[str]) -> EmailMessage:
    """The report of the week starting at `start` as one mail with a plain-text and an HTML part."""
    report = weekly_report(start)
    link = f"{current_app.config['PUBLIC_URL']}/reports/weekly?week={report['week']}"
    sender = current_app.config["NOTIFY_MAIL_FROM"]
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = f"[Switchboard] Weekly report {report['week']}: {report['volume']['total']} posts"
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<report.{uuid.uuid4().hex}@{parseaddr(sender)[1].rpartition('@')[2] or 'localhost'}>"
    mail["Auto-Submitted"] = AUTO_GENERATED
    mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(render_template("mail/report_weekly.txt", report=report, link=link))
    mail.add_alternative(render_template("mail/report_weekly.html", report=report, link=link), subtype="html")
    return mail


def send_if_due(now: datetime | None = None) -> dict:
    """Send the weekly report if its time has come and this week's was not sent; returns what was sent.

    Raises:
        ReportFailed: the relay refused it or could not be reached (the week stays unsent).
    """
    now = now or utcnow()
    settings = current()
    start = due_week(settings, now)
    if start is None:
        return {}
    if not current_app.config["NOTIFY_SMTP_HOST"]:
        log.warning("weekly report not mailed: SWITCHBOARD_NOTIFY_SMTP_HOST is not set")
        return {}
    label, recipients = week_label(start), list(settings.report_recipients)
    previous = {"report_last_week": settings.report_last_week, "report_last_sent_at": settings.report_last_sent_at}
    claimed = db.session.execute(
        sa.update(AlertSettings).where(AlertSettings.id == ALERT_SETTINGS_ID,
                                       AlertSettings.report_last_week.is_distinct_from(label))
        .values(report_last_week=label, report_last_sent_at=now))
    db.session.commit()
    if claimed.rowcount != 1:
        return {}
    try:
        relay(compose(start, recipients), recipients)
    except (smtplib.SMTPException, OSError, ValueError) as error:
        db.session.execute(sa.update(AlertSettings).where(AlertSettings.id == ALERT_SETTINGS_ID,
                                                          AlertSettings.report_last_week == label)
                           .values(**previous))
        db.session.commit()
        raise ReportFailed(f"weekly report {label}: {error}") from error
    return {"week": label, "recipients": len(recipients)}
