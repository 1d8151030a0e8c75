"""One conversation with its thread."""

import sqlalchemy.orm as so
from flask import jsonify

from ..auth import token_required
from ..errors import NotFound
from ..extensions import db
from ..models import Conversation, Message
from ..serializers import serialize_conversation
from . import bp


@bp.get("/conversations/<int:conversation_id>")
@token_required
def get_conversation(conversation_id: int):
    """Show a conversation: its messages, author and routing explanation."""
    conversation = db.session.get(
        Conversation, conversation_id,
        options=[so.selectinload(Conversation.messages).joinedload(Message.agent)],
    )
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return jsonify(serialize_conversation(conversation, detail=True))
