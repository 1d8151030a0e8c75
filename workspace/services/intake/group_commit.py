"""Group commit: concurrent deliveries share one transaction, each still answered after it commits.

A single-post webhook costs a commit plus a handful of statements; done one
request at a time that capped ingest near 15% of a bare endpoint's rate. Here
each request hands its validated posts to the process's committer thread (a
greenlet under gevent) and waits; the committer stages everything that has
queued up into one transaction and commits once. If a group fails, each
delivery in it is retried on its own, so one bad delivery cannot sink others.
"""

import collections
import threading
import time
from dataclasses import dataclass, field

from flask import Flask

from workspace.channels.post import InboundPost
from workspace.extensions import db
from workspace.services.intake.store import Outcome, stage_posts, store_posts

# A group stops growing at this many posts (two full batches).
MAX_GROUP_POSTS = 1000


@dataclass
class _Delivery:
    channel_id: int
    posts: list[InboundPost]
    window_seconds: int
    done: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] | None = None
    error: BaseException | None = None


class GroupCommitter:
    """Commits the deliveries of concurrent requests together."""

    def __init__(self, app: Flask):
        self.app = app
        self.pending: collections.deque[_Delivery] = collections.deque()
        self.lock = threading.Lock()
        self.running = False

    def store(self, channel_id: int, posts: list[InboundPost], window_seconds: int) -> list[Outcome]:
        """Store one delivery; returns its outcomes once they are committed, or raises its error."""
        delivery = _Delivery(channel_id, posts, window_seconds)
        with self.lock:
            self.pending.append(delivery)
            if not self.running:
                self.running = True
                threading.Thread(target=self._run, name="group-commit", daemon=True).start()
        delivery.done.wait()
        if delivery.error is not None:
            raise delivery.error
        return delivery.outcomes

    def _run(self) -> None:
        """Commit groups until nothing is pending, then stop (the next delivery starts a new run)."""
        with self.app.app_context():
            while True:
                # Yield once per round so requests already read off their sockets
                # (runnable greenlets, under gevent) can join this group.
                time.sleep(0)
                group = self._take_group()
                if not group:
                    return
                self._commit(group)
                db.session.remove()

    def _take_group(self) -> list[_Delivery]:
        with self.lock:
            group, size = [], 0
            while self.pending and (not group or size + len(self.pending[0].posts) <= MAX_GROUP_POSTS):
                delivery = self.pending.popleft()
                group.append(delivery)
                size += len(delivery.posts)
            if not group:
                self.running = False
            return group

    def _commit(self, group: list[_Delivery]) -> None:
        if len(group) == 1:
            return self._commit_alone(group[0])
        try:
            staged = _stage_together(group)
            db.session.commit()
        except Exception:
            db.session.rollback()
            for delivery in group:
                self._commit_alone(delivery)
            return
        for delivery in group:
            delivery.outcomes = staged[id(delivery)]
            delivery.done.set()

    def _commit_alone(self, delivery: _Delivery) -> None:
        try:
            delivery.outcomes = store_posts(delivery.channel_id, delivery.posts,
                                            window_seconds=delivery.window_seconds)
        except BaseException as error:  # handed to the waiting request, which raises it
            db.session.rollback()
            delivery.error = error
        finally:
            delivery.done.set()


def _stage_together(group: list[_Delivery]) -> dict[int, list[Outcome]]:
    """Stage each channel's posts of the group in one call (a handful of statements in all),
    then hand every delivery its own outcomes; a post repeated across deliveries is stored
    once and reported as a duplicate to the later one."""
    by_channel: dict[tuple[int, int], list[_Delivery]] = {}
    for delivery in group:
        by_channel.setdefault((delivery.channel_id, delivery.window_seconds), []).append(delivery)
    results = {}
    for (channel_id, window_seconds), deliveries in by_channel.items():
        outcomes = iter(stage_posts(channel_id, [p for d in deliveries for p in d.posts], window_seconds))
        for delivery in deliveries:
            results[id(delivery)] = [next(outcomes) for _ in delivery.posts]
    return results


def init_app(app: Flask) -> None:
    """Give the app its committer."""
    app.extensions["group_commit"] = GroupCommitter(app)


def store_delivery(app: Flask, channel_id: int, posts: list[InboundPost], window_seconds: int) -> list[Outcome]:
    """Store a webhook's posts through the app's committer (committed when this returns)."""
    return app.extensions["group_commit"].store(channel_id, posts, window_seconds)
