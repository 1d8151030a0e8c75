"""Webhook ingest: verify, validate, normalize and store posts from channels."""

from .views import bp

__all__ = ["bp"]
