"""Bulk actions: a macro or one change applied to many conversations by a resumable job, with undo.

selection (what and which), dry_run, runner (make and run), undo, progress (the progress event and results).

The conversations are fixed when the bulk action is made (one BulkItem each,
pending). The job works through the pending ones in batches: each batch is
one transaction that applies the actions to every conversation (all or
nothing per conversation: one that refuses is marked failed with the reason
and left untouched), marks the items, and stores the replies; then it
publishes the batch's events, enqueues its replies' deliveries in one Redis
round-trip and reports `bulk.progress`. A worker killed mid-batch loses that
uncommitted batch and nothing else: the retried job finds those items still
pending and does them once; no reply is stored, hence sent, twice.
"""

from workspace.services.responses.bulk.dry_run import dry_run
from workspace.services.responses.bulk.progress import (
           bulk_items,
           get_bulk,
           recent_bulks,
           serialize_bulk,
           serialize_item,
)
from workspace.services.responses.bulk.runner import create_bulk, resolve_incident, run_bulk
from workspace.services.responses.bulk.undo import request_undo, undo_bulk

__all__ = ["bulk_items", "create_bulk", "dry_run", "get_bulk", "recent_bulks", "request_undo", "resolve_incident",
           "run_bulk",
           "serialize_bulk", "serialize_item", "undo_bulk"]
