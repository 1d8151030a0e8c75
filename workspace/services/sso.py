"""Single sign-on accounts: which agent a provider's verified identity signs in as.

An identity is its (issuer, subject) pair, never its email, which the person
can change at the provider. On an identity's first sign-in it is linked to the
agent with the same verified email, or to a new agent when the installation
provisions them; every later sign-in follows the link.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.models import Agent, SsoIdentity, utcnow
from workspace.services import audit
from workspace.services.admin import EMAIL, agent_state


class SsoRefused(SwitchboardError):
    """The provider vouched for someone this installation does not let in."""

    status = 403
    code = "sso_refused"


@dataclass(frozen=True)
class SsoPolicy:
    """Who may come in through single sign-on (from the SSO_* settings)."""

    allowed_domains: tuple[str, ...] = ()
    create_agents: bool = False


@dataclass(frozen=True)
class Identity:
    """What a verified ID token says about the person."""

    issuer: str
    subject: str
    email: str
    name: str


def identity_from_claims(issuer: str, claims: dict) -> Identity:
    """Read the person out of a verified ID token's claims, refusing what is missing or unverified.

    Args:
        issuer: the provider's issuer URL (the token's `iss`, already checked).
        claims: the token's claims.

    Returns:
        The identity, its email lower-cased.
    """
    subject, email = claims.get("sub"), claims.get("email")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise SsoRefused("the provider sent no usable subject (sub) for this account", code="invalid_claims")
    if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email):
        raise SsoRefused("the provider sent no email address for this account; Switchboard needs one "
                         "(ask for the 'email' scope)", code="no_email")
    # Some providers (Amazon Cognito) send the boolean as a string.
    if claims.get("email_verified") not in (True, "true"):
        raise SsoRefused(f"the provider has not verified {email}; verify it there, then sign in again",
                         code="email_unverified")
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        name = email.split("@")[0]
    return Identity(issuer=issuer, subject=subject, email=email.lower(), name=name.strip()[:120])


def sign_in(identity: Identity, policy: SsoPolicy) -> Agent:
    """Find (or link, or create) the agent an identity signs in as, and record the sign-in.

    Args:
        identity: who the provider says signed in.
        policy: allowed email domains and whether unknown people become agents.

    Returns:
        The active agent, with the sign-in committed to the audit log.
    """
    domain = identity.email.rsplit("@", 1)[1]
    if policy.allowed_domains and domain not in policy.allowed_domains:
        raise SsoRefused(f"{identity.email} is not in a domain allowed to sign in here", code="domain_not_allowed")
    # Two first sign-ins of one person at once both try to link (or create); the loser finds the winner's row.
    try:
        return _sign_in(identity, policy)
    except IntegrityError:
        db.session.rollback()
    return _sign_in(identity, policy)


def _sign_in(identity: Identity, policy: SsoPolicy) -> Agent:
    """One attempt of sign_in; raises IntegrityError when a concurrent sign-in linked first."""
    link = db.session.scalar(sa.select(SsoIdentity).where(
        SsoIdentity.issuer == identity.issuer, SsoIdentity.subject == identity.subject))
    agent = link.agent if link else db.session.scalar(sa.select(Agent).where(Agent.email == identity.email))
    if agent is None and not policy.create_agents:
        raise SsoRefused(f"no Switchboard account uses {identity.email}; ask an admin to add you",
                         code="unknown_agent")
    if agent is not None and not agent.active:
        raise SsoRefused("this account is deactivated", code="deactivated")
    if agent is None:
        agent = Agent(email=identity.email, name=identity.name, role="agent")
        db.session.add(agent)
        db.session.flush()
        audit.record(agent, "agent.create_by_sso", "agent", agent.id, after=agent_state(agent))
    if link is None:
        link = SsoIdentity(agent=agent, issuer=identity.issuer, subject=identity.subject, email=identity.email)
        db.session.add(link)
        db.session.flush()
        audit.record(agent, "agent.link_sso", "agent", agent.id, after=_link_state(link))
    link.email = identity.email
    link.last_signed_in_at = utcnow()
    audit.record(agent, "agent.sign_in_sso", "agent", agent.id, after=_link_state(link))
    db.session.commit()
    return agent


def _link_state(link: SsoIdentity) -> dict:
    """What the audit log records of an identity."""
    return {"issuer": link.issuer, "subject": link.subject, "email": link.email}
