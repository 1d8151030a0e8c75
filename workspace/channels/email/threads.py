"""Which conversation a received email belongs to, never guessed from the subject alone.

In order: a Message-ID in In-Reply-To or References that we stored or sent;
the reply+<token>@ address it was sent to; a [#123] subject tag, only when
the sender already takes part in that conversation. Anything else starts a
new conversation (its thread key is its own Message-ID), however alike the
subjects are.
"""

import sqlalchemy as sa

from workspace.channels.email.addresses import conversation_of_reply_address, tagged_conversation
from workspace.channels.email.parsing import Mail
from workspace.extensions import db
from workspace.models import Author, Conversation, Message

MESSAGES, CONVERSATIONS, AUTHORS = Message.__table__, Conversation.__table__, Author.__table__
BY_MESSAGE_ID = sa.select(MESSAGES.c.external_id, CONVERSATIONS.c.thread_key).join(
    CONVERSATIONS, MESSAGES.c.conversation_id == CONVERSATIONS.c.id).where(
    MESSAGES.c.channel_id == sa.bindparam("channel_id"),
    MESSAGES.c.external_id.in_(sa.bindparam("ids", expanding=True)))
THREAD_KEY = sa.select(CONVERSATIONS.c.thread_key).where(
    CONVERSATIONS.c.id == sa.bindparam("conversation_id"), CONVERSATIONS.c.channel_id == sa.bindparam("channel_id"))
# A participant: the conversation's customer, or the sender of one of its messages.
PARTICIPANT = sa.select(CONVERSATIONS.c.thread_key).where(
    CONVERSATIONS.c.id == sa.bindparam("conversation_id"), CONVERSATIONS.c.channel_id == sa.bindparam("channel_id"),
    sa.exists().where(MESSAGES.c.conversation_id == CONVERSATIONS.c.id, MESSAGES.c.author_id == AUTHORS.c.id,
                      AUTHORS.c.external_id == sa.bindparam("sender")))


def thread_key_for(channel, mail: Mail, recipients: list[str]) -> str:
    """The thread key the mail's conversation has: an existing conversation's, or its own Message-ID.

    Args:
        channel: the channel row (id, secret, settings).
        mail: the parsed message.
        recipients: every address it was sent to (envelope, To and Cc).

    Returns:
        The conversation thread key to store the message under.
    """
    run = db.session.connection().execute
    candidates = [mail.in_reply_to, *reversed(mail.references)] if mail.in_reply_to else list(reversed(mail.references))
    candidates = [c for c in dict.fromkeys(candidates) if c and c != mail.message_id]
    if candidates:
        found = dict(run(BY_MESSAGE_ID, {"channel_id": channel.id, "ids": candidates}).all())
        for candidate in candidates:  # the nearest ancestor wins
            if found.get(candidate):
                return found[candidate]
    for address in recipients:
        conversation_id = conversation_of_reply_address(channel, address)
        if conversation_id is not None:
            key = run(THREAD_KEY, {"conversation_id": conversation_id, "channel_id": channel.id}).scalar()
            if key:
                return key
    tagged = tagged_conversation(mail.subject)
    if tagged is not None and mail.sender is not None:
        key = run(PARTICIPANT, {"conversation_id": tagged, "channel_id": channel.id,
                                "sender": mail.sender.address.lower()}).scalar()
        if key:
            return key
    return mail.message_id
