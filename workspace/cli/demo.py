"""Demo data: a small brand's support floor with a few hundred realistic posts."""

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from routing import Post
from routing.text import model_text
from workspace.channels import registry
from workspace.channels.post import InboundAuthor, InboundPost
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import (
    Agent,
    ApiToken,
    BusinessCalendar,
    Channel,
    Conversation,
    Macro,
    Message,
    Priority,
    Queue,
    SlaPolicy,
    utcnow,
)
from workspace.services.intake.store import store_posts
from workspace.services.service_levels import clocks
from workspace.services.triage import decisions
from workspace.services.triage.classifier import train_from_examples

DEMO_PASSWORD = "switchboard-demo"

PEOPLE = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("sam@example.com", "Sam Supervisor", "supervisor"),
    ("ana@example.com", "Ana Agent", "agent"),
    ("kofi@example.com", "Kofi Agent", "agent"),
]
# Which queues the demo agents work (supervisors and admins see every queue).
MEMBERSHIPS = {"ana@example.com": ("triage", "billing", "tech"), "kofi@example.com": ("triage", "accounts", "feedback")}
# Plain first-reply targets (minutes) short enough that the demo's older posts (one to five hours) show some
# at risk and a few past it, while most, within the hour, are running.
QUEUES = [
    ("triage", "Triage", "Needs a human to route it.", {"normal": 180, "low": 360}),
    ("billing", "Billing", "Charges, refunds, invoices.", {"urgent": 30, "high": 90}),
    ("tech", "Technical support", "Login, outages, bugs.", {"urgent": 15, "high": 60, "normal": 180, "low": 360}),
    ("accounts", "Accounts & security", "Hacked accounts, verification, closures.",
     {"urgent": 15, "normal": 180, "low": 360}),
    ("feedback", "Feedback", "Praise, suggestions, feature requests.", {"normal": 180, "low": 360}),
]
# (slug, name, kind): one channel of each real kind, so replies travel each kind's own way out.
CHANNELS = [("forum", "Community forum", "discourse"), ("x", "X mentions", "x"), ("app", "In-app feedback", "native"),
            ("community", "Khoros community", "khoros")]
# The X account the demo's mentions are addressed to, and the forum user replies are posted as.
DEMO_X_USER_ID = "1000000001"
DEMO_FORUM_USER = "switchboard"
# Forum posts each open their own topic, numbered from here.
FIRST_TOPIC = 5000
# (slug, name, address): the demo's email channel; mail to any address on its domain reaches it (billing@…).
DEMO_MAIL = ("mail", "Support mailbox", "support@switchboard.localhost")

# (text, subject, queue) templates; {product} and {amount} vary per post. The queue
# labels the demo classifier's training variants; the posts themselves are routed.
POSTS = [
    ("@billing I was charged twice for my {product} subscription this month, please refund {amount}", "", "billing"),
    ("Why is there a {amount} charge on my card? I never ordered anything.", "Unknown charge", "billing"),
    ("How do I download last year's invoices for {product}? Accountant needs them.", "Invoices", "billing"),
    ("My refund for the cancelled {product} order still hasn't arrived after 10 days", "Refund missing", "billing"),
    ("Is the {product} annual plan cheaper than monthly? Can't find the pricing page.", "", "billing"),
    ("@tech {product} is down for everyone in our office, total outage since 9am!!", "Outage", "tech"),
    ("I can't log in to {product}, it keeps saying invalid password even after reset", "Can't log in", "tech"),
    ("The {product} app crashes every time I open the settings screen on Android 14", "App crash", "tech"),
    ("Sync between {product} desktop and mobile stopped working yesterday", "", "tech"),
    ("Getting error 502 when uploading files bigger than 10MB to {product}", "Upload error", "tech"),
    ("Password reset email never arrives, checked spam too", "Reset email", "tech"),
    ("@accounts my account was hacked, someone changed my email and I'm locked out", "Hacked", "accounts"),
    ("How do I turn on two-factor authentication for {product}?", "2FA", "accounts"),
    ("Please close my account and delete all my data (GDPR request)", "Delete my account", "accounts"),
    ("Someone is logging into my {product} account from another country?!", "Suspicious login", "accounts"),
    ("Love the new {product} dashboard, great work team! 🎉", "", "feedback"),
    ("Feature request: dark mode for {product} please", "Dark mode", "feedback"),
    ("It would be great if {product} supported exporting to CSV", "Export idea", "feedback"),
    ("Your support is the worst, third time asking about my {amount} refund. Unacceptable.", "", "billing"),
    ("hey quick question, does {product} work offline?", "", "tech"),
    ("<script>alert('hi')</script> is what your search box shows when I type an apostrophe", "Weird search", "tech"),
    ("'; DROP TABLE conversations; -- lol does {product} sanitize input?", "", "tech"),
    ("Thanks for fixing the login issue so quickly yesterday!", "", "feedback"),
    ("Is there an outage? {product} won't load at all for me", "", "tech"),
]
# Openings and closings that make the training variants of a template differ.
OPENINGS = ["", "", "Hi, ", "Hello team, ", "Hey, ", "Urgent: ", "Good morning. ", "Quick one: "]
CLOSINGS = ["", "", " Thanks.", " Please help.", " Any idea?", " Regards, a customer", " Cheers!"]
TRAINING_VARIANTS = 400
PRODUCTS = ["Switchboard Pro", "Cloud Drive", "Team Chat", "Photo Vault", "Budget Pal"]
FIRST_NAMES = ["Maya", "Liam", "Zara", "Noah", "Ivy", "Omar", "Lena", "Kai", "Ines", "Theo",
               "Priya", "Jonas", "Amara", "Mateo", "Yuki", "Sofia", "Ravi", "Elif", "Chen", "Aisha"]


@dataclass(frozen=True)
class Relay:
    """Where the demo channels' replies go: the local relay (devstack.relay) the launcher starts."""

    url: str  # its HTTP base: Discourse's API under /discourse, reply callbacks under /callback/<channel>
    api_key: str  # the Discourse Api-Key it accepts
    smtp_port: int | None = None  # its SMTP port, for the mailbox's replies


def relay_settings(kind: str, slug: str, relay: Relay) -> dict:
    """A demo channel's settings that send its replies to the relay, in the kind's own protocol."""
    if kind == "discourse":
        return {"base_url": f"{relay.url}/discourse", "api_key": relay.api_key, "api_username": DEMO_FORUM_USER}
    if kind == "email":
        return {"smtp_host": "127.0.0.1", "smtp_port": relay.smtp_port} if relay.smtp_port else {}
    return {"callback_url": f"{relay.url}/callback/{slug}"}


def _demo_channel(slug: str, name: str, kind: str, settings: dict, relay: Relay | None) -> Channel:
    """The demo channel with this slug, created or brought to its kind (an older demo made them all native), its
    replies pointed at the relay when there is one."""
    channel = db.session.scalar(sa.select(Channel).where(Channel.slug == slug))
    if channel is None:
        channel = Channel(slug=slug, name=name, kind=kind, settings={})
        db.session.add(channel)
    current = (channel.settings or {}) if channel.kind == kind else {}  # another kind's settings mean nothing here
    channel.kind = kind
    wanted = {**settings, **(relay_settings(kind, slug, relay) if relay else {})}
    if kind == "x" and not current.get("consumer_secret"):
        wanted["consumer_secret"] = secrets.token_hex(24)  # signs the CRC answer and webhook checks
    channel.settings = registry.clean_settings(kind, wanted, current)
    return channel


def seed_demo(post_count: int = 300, seed: int = 7, relay: Relay | None = None) -> str:
    """Create demo agents, queues, channels and posts; returns what to tell the user.

    Running it again adds nothing that exists (agents, queues and channels are
    matched by email and slug; posts by their external ids), brings the earlier
    posts up to now, and points the channels' replies at `relay` when given.
    """
    rng = random.Random(seed)
    for email, name, role in PEOPLE:
        if not db.session.scalar(sa.select(Agent).where(Agent.email == email)):
            db.session.add(Agent(email=email, name=name, role=role,
                                 password_hash=generate_password_hash(DEMO_PASSWORD)))
    for slug, name, description, sla in QUEUES:
        if not db.session.scalar(sa.select(Queue).where(Queue.slug == slug)):
            db.session.add(Queue(slug=slug, name=name, description=description, sla_minutes=sla))
    channels = [_demo_channel(slug, name, kind, {"user_id": DEMO_X_USER_ID} if kind == "x" else {}, relay)
                for slug, name, kind in CHANNELS]
    mail = _demo_channel(DEMO_MAIL[0], DEMO_MAIL[1], "email", {"address": DEMO_MAIL[2]}, relay)
    db.session.flush()
    for email, slugs in MEMBERSHIPS.items():
        agent = db.session.scalar(sa.select(Agent).where(Agent.email == email))
        agent.queues = list(db.session.scalars(sa.select(Queue).where(Queue.slug.in_(slugs))))
    _seed_sla()
    admin = db.session.scalar(sa.select(Agent).where(Agent.email == PEOPLE[0][0]))
    token, secret = ApiToken.issue(admin, "demo")
    db.session.add(token)
    _add_macros(admin)
    db.session.commit()
    _train_classifier(random.Random(seed))

    now = utcnow()
    refresh_timeline(now)
    arrivals = timeline(rng, post_count, now)
    by_channel: dict[int, list[InboundPost]] = {}
    for number in range(post_count):
        channel = rng.choice(channels)
        person = rng.randrange(60)
        text, subject, _ = OUTAGE if number < SPIKE else rng.choice(POSTS)
        followers = int(rng.paretovariate(1.2) * 40)
        post = InboundPost(
            external_id=f"demo-{number}",
            author=InboundAuthor(
                external_id=f"user-{person}", handle=f"{FIRST_NAMES[person % 20].lower()}{person}",
                name=f"{FIRST_NAMES[person % 20]} {chr(65 + person % 26)}.", followers=followers,
                verified=followers > 5000, email=f"{FIRST_NAMES[person % 20].lower()}{person}@example.net",
            ),
            text=text.format(product=rng.choice(PRODUCTS), amount=f"${rng.randint(5, 400)}.{rng.randint(0, 99):02}"),
            subject=subject,
            created_at=arrivals[number],
            # A forum post opens its own topic (Discourse replies go into it); elsewhere posts join by author.
            **({"thread_id": str(FIRST_TOPIC + number), "raw": {"post_number": 1}}
               if channel.kind == "discourse" else {}),
        )
        by_channel.setdefault(channel.id, []).append(post)
    stored, new_ids = 0, set()
    for channel in channels:
        posts = by_channel.get(channel.id, [])
        for begin in range(0, len(posts), 200):
            outcomes = store_posts(channel.id, posts[begin:begin + 200], window_seconds=3600)
            stored += sum(o.status == "stored" for o in outcomes)
            new_ids |= {o.conversation_id for o in outcomes if o.status == "stored"}
    # Routed here rather than by the worker, so each conversation's reply target is known to place it by.
    for begin in range(0, len(new_ids), 200):
        decisions.route_conversations(sorted(new_ids)[begin:begin + 200])
    place_on_timeline(utcnow())
    clocks.check(utcnow())  # the states as of now (the scheduler's watcher would, within its minute)
    secrets_text = "\n".join(f"  channel {c.slug:9} secret {c.secret}" for c in channels)
    secrets_text += f"\n  channel {mail.slug:9} address {DEMO_MAIL[2]} (mail it at the smtp:// listener above)"
    return (
        f"demo data: {stored} new posts, routed\n"
        f"console sign-in: {PEOPLE[0][0]} / {DEMO_PASSWORD} (also ana@example.com, sam@example.com)\n"
        f"API token for {PEOPLE[0][0]}: {secret}\n{secrets_text}"
    )


# The first SPIKE posts report one outage within a few minutes: the dashboard's spike, an incident to handle.
SPIKE = 25
OUTAGE = ("Is there an outage? {product} won't load at all for me", "", "tech")


def timeline(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """When each demo post arrived: the spike twenty minutes ago; of the rest most within the last hour (their
    SLA clocks running), some one to two and a half hours back (at risk), a few older (past their SLA)."""
    times = [now - timedelta(minutes=20, seconds=rng.randint(0, 240)) for _ in range(min(SPIKE, count))]
    for _ in range(count - len(times)):
        share = rng.random()
        minutes = rng.uniform(1, 60) if share < 0.8 else rng.uniform(60, 150) if share < 0.95 else rng.uniform(150, 300)
        times.append(now - timedelta(minutes=minutes))
    return times


def refresh_timeline(now: datetime) -> None:
    """Bring the demo's earlier posts up to now, so a later start shows a live floor rather than one hours
    past every SLA: every demo post and its conversation move forward by the time since the newest, and the
    unresolved ones' SLA clocks start again from their new times."""
    newest = db.session.scalar(sa.select(sa.func.max(Message.created_at)).where(Message.external_id.like("demo-%")))
    if newest is None:
        return
    shift = now - timedelta(minutes=1) - newest.replace(tzinfo=now.tzinfo)
    if shift < timedelta(minutes=5):
        return
    conversation_ids = sa.select(Message.conversation_id).where(Message.external_id.like("demo-%")).distinct()
    policies = clocks.Policies()
    for conversation in db.session.scalars(sa.select(Conversation).where(Conversation.id.in_(conversation_ids))):
        _shift_conversation(conversation, shift)
        if conversation.status in clocks.RUNNING_STATUSES:
            conversation.sla_clock, conversation.sla_paused_at = None, None
            clocks.sync(conversation, now, policies)
    db.session.commit()


def place_on_timeline(now: datetime) -> None:
    """Date each waiting demo conversation by its own reply target, so the floor reads as a live one whatever the
    routing made of it: most well inside their target, some at risk, a few past it (the spike stays where it is).
    Each conversation's share of its target comes from its id, so a later start places it alike."""
    spike = sa.select(Message.conversation_id).where(Message.external_id.in_([f"demo-{n}" for n in range(SPIKE)]))
    demo = sa.select(Message.conversation_id).where(Message.external_id.like("demo-%"))
    policies = clocks.Policies()
    rows = db.session.scalars(sa.select(Conversation).where(
        Conversation.id.in_(demo), Conversation.id.not_in(spike), Conversation.status == "open",
        Conversation.first_reply_at.is_(None), Conversation.waiting_since.is_not(None)))
    for conversation in rows:
        target = policies.reply_minutes(conversation.queue, Priority(conversation.priority))
        draw = (conversation.id * 7919) % 100 / 100
        share = 0.05 + draw / 0.8 * 0.55 if draw < 0.8 else 0.8 + (draw - 0.8) * 0.9 if draw < 0.95 else 1.2
        shift = now - timedelta(minutes=target * share) - conversation.waiting_since.replace(tzinfo=now.tzinfo)
        _shift_conversation(conversation, shift)
        conversation.sla_clock, conversation.sla_paused_at = None, None
        clocks.sync(conversation, now, policies)
    db.session.commit()


def _shift_conversation(conversation: Conversation, shift: timedelta) -> None:
    """Move a conversation and its messages in time by `shift` (in Python: SQLite keeps times as text)."""
    for message in conversation.messages:
        message.created_at += shift
        if message.received_at is not None:
            message.received_at += shift
    for column in ("created_at", "updated_at", "last_message_at", "waiting_since", "routed_at", "first_reply_at"):
        if getattr(conversation, column) is not None:
            setattr(conversation, column, getattr(conversation, column) + shift)


def _train_classifier(rng: random.Random) -> None:
    """Train the demo classifier on labelled variants of the templates, so the demo routes meaningfully.

    The same seed gives the same variants, so seeding again trains nothing new.
    """
    texts, labels = [], []
    for _ in range(TRAINING_VARIANTS):
        text, subject, queue = rng.choice(POSTS)
        text = text.format(product=rng.choice(PRODUCTS), amount=f"${rng.randint(5, 400)}.{rng.randint(0, 99):02}")
        post = Post(text=f"{rng.choice(OPENINGS)}{text}{rng.choice(CLOSINGS)}",
                    subject=subject if rng.random() < 0.7 else "", channel=rng.choice(CHANNELS[:3])[0])
        texts.append(model_text(post))
        labels.append(queue)
    train_from_examples(texts, labels, source="demo")


def _seed_sla() -> None:
    """A support-hours calendar, business-hours policies for billing, and round robin there (once)."""
    if db.session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == "Support hours")):
        return
    calendar = BusinessCalendar(name="Support hours", time_zone="Europe/London", holidays=[],
                                hours={day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")})
    billing = db.session.scalar(sa.select(Queue).where(Queue.slug == "billing"))
    billing.assignment = "round_robin"
    for level, (first, following, resolution) in enumerate([(30, 60, 480), (90, 120, 960), (240, 240, 2880),
                                                           (480, 480, 5760)]):
        db.session.add(SlaPolicy(queue=billing, priority=level, first_reply_minutes=first,
                                 next_reply_minutes=following, resolution_minutes=resolution,
                                 business_hours=True, calendar=calendar))


# (name, description, template, actions): the demo's global macros.
MACROS = [
    ("Outage: we're on it", "Known login outage; tag and resolve",
     "Hi {{ author.first_name | default('there') }}, sorry about this: {{ queue.name | default('our team') }} knows "
     "about the outage and is fixing it. Updates: https://status.example.com  {{ agent.first_name }}",
     [{"type": "reply"}, {"type": "add_tags", "tags": ["outage"]}, {"type": "status", "status": "resolved"}]),
    ("Refund on its way", "Refund issued; wait for the customer to confirm",
     "Hi {{ author.first_name | default('there') }}, your refund is on its way: 3 to 5 working days. "
     "{{ agent.first_name }}",
     [{"type": "reply"}, {"type": "add_tags", "tags": ["refund"]}, {"type": "snooze", "minutes": 4320}]),
    ("Escalate to accounts", "Hacked or locked-out account: urgent, to the accounts team",
     "", [{"type": "priority", "priority": "urgent"}, {"type": "move", "queue": "accounts"},
          {"type": "note", "text": "Moved by {{ agent.name }} with a macro"}]),
]


def _add_macros(owner: Agent) -> None:
    """Add the demo's global macros that do not exist yet (matched by name)."""
    for name, description, template, actions in MACROS:
        if not db.session.scalar(sa.select(Macro).where(Macro.name == name)):
            db.session.add(Macro(name=name, description=description, template=template, actions=actions,
                                 scope="global", owner=owner))


@click.command("seed")
@with_appcontext
@click.option("--posts", default=300, show_default=True, help="How many demo posts to deliver.")
@click.option("--relay", "relay_url", metavar="URL", help="Send the demo channels' replies to this devstack relay.")
@click.option("--relay-key", default="", help="The Discourse Api-Key the relay accepts.")
@click.option("--relay-smtp-port", type=int, help="The relay's SMTP port, for the mailbox's replies.")
def seed(posts: int, relay_url: str | None, relay_key: str, relay_smtp_port: int | None):
    """Load demo data: agents, queues, channels and realistic posts (routed by the worker)."""
    relay = Relay(relay_url.rstrip("/"), relay_key, relay_smtp_port) if relay_url else None
    click.echo(seed_demo(posts, relay=relay))
    while dispatch_once(current_app.config["DISPATCH_BATCH"]):
        pass  # hand the demo posts to the worker now rather than at the next sweep
