"""Webhook ingest: verify, validate, normalize and store posts from channels.

The endpoint lives in `views`; adapters, fields and the normalized post beside it.
"""
