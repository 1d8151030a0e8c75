"""Customers and their history."""

import sqlalchemy as sa
from flask import jsonify

from ..auth import token_required
from ..errors import NotFound
from ..extensions import db
from ..models import Author, Conversation
from ..serializers import serialize_author, serialize_conversation
from . import bp


@bp.get("/authors/<int:author_id>")
@token_required
def get_author(author_id: int):
    """Show a customer with every conversation they have had, newest first."""
    author = db.session.get(Author, author_id)
    if author is None:
        raise NotFound(f"no author {author_id}")
    history = db.session.scalars(
        sa.select(Conversation).where(Conversation.author_id == author.id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    ).all()
    return jsonify({**serialize_author(author), "conversations": [serialize_conversation(c) for c in history]})
