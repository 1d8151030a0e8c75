"""Supervision: the live dashboard, incidents, volume, quality review and the weekly report."""
