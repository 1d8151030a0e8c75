"""Channels: one module per sender kind (inbound adapter, outbound sender, settings, reply limit).

`registry` maps a kind to its module; fields, html, post and signature are what the kinds share.
"""
