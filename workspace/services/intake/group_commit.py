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
class _Waiting:
    """One caller's work, and what became of it once its group committed."""

    work: object
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None


class GroupCommitter:
    """Commits the work of concurrent callers together; subclasses say how work is staged and stored.

    stage_group(works) writes every work into the current transaction and returns
    their results in order; store_alone(work) stores one work in a transaction of
    its own (committed); weight(work) is how much of MAX_GROUP_POSTS it takes.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.pending: collections.deque[_Waiting] = collections.deque()
        self.lock = threading.Lock()
        self.running = False

    def stage_group(self, works: list) -> list:
        """Stage every work of a group in the current transaction, without committing; results in order."""
        raise NotImplementedError

    def store_alone(self, work):
        """Store one work in a transaction of its own; its result once committed."""
        raise NotImplementedError

    def weight(self, work) -> int:
        """How many posts the work stores (a group holds up to MAX_GROUP_POSTS)."""
        return 1

    def committed(self, results: list) -> None:
        """Called by the committer's thread with a group's results once committed, before its callers are
        told (does nothing unless a subclass has something to do after a commit; must not raise)."""

    def submit(self, work):
        """Hand over one work; returns its result once it is committed, or raises its error."""
        waiting = _Waiting(work)
        with self.lock:
            self.pending.append(waiting)
            if not self.running:
                self.running = True
                threading.Thread(target=self._run, name="group-commit", daemon=True).start()
        waiting.done.wait()
        if waiting.error is not None:
            raise waiting.error
        return waiting.result

    def _run(self) -> None:
        """Commit groups until nothing is pending, then stop (the next work starts a new run)."""
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

    def _take_group(self) -> list[_Waiting]:
        with self.lock:
            group, size = [], 0
            while self.pending and (not group or size + self.weight(self.pending[0].work) <= MAX_GROUP_POSTS):
                waiting = self.pending.popleft()
                group.append(waiting)
                size += self.weight(waiting.work)
            if not group:
                self.running = False
            return group

    def _commit(self, group: list[_Waiting]) -> None:
        if len(group) == 1:
            return self._commit_alone(group[0])
        try:
            results = self.stage_group([waiting.work for waiting in group])
            db.session.commit()
        except Exception:
            # Nothing of the group was committed: each is stored on its own, so one bad work fails only itself.
            db.session.rollback()
            for waiting in group:
                self._commit_alone(waiting)
            return
        self.committed(results)
        for waiting, result in zip(group, results, strict=True):
            waiting.result = result
            waiting.done.set()

    def _commit_alone(self, waiting: _Waiting) -> None:
        try:
            waiting.result = self.store_alone(waiting.work)
            self.committed([waiting.result])
        except BaseException as error:  # handed to the waiting caller, which raises it
            db.session.rollback()
            waiting.error = error
        finally:
            waiting.done.set()


@dataclass(frozen=True, slots=True)
class _Delivery:
    channel_id: int
    posts: list[InboundPost]
    window_seconds: int


class PostCommitter(GroupCommitter):
    """Commits concurrent webhook deliveries together."""

    def store(self, channel_id: int, posts: list[InboundPost], window_seconds: int) -> list[Outcome]:
        """Store one delivery; returns its outcomes once they are committed, or raises its error."""
        return self.submit(_Delivery(channel_id, posts, window_seconds))

    def weight(self, work: _Delivery) -> int:
        """A delivery weighs its posts."""
        return len(work.posts)

    def store_alone(self, work: _Delivery) -> list[Outcome]:
        """Store one delivery in its own transaction."""
        return store_posts(work.channel_id, work.posts, window_seconds=work.window_seconds)

    def stage_group(self, works: list[_Delivery]) -> list[list[Outcome]]:
        """Stage each channel's posts of the group in one call (a handful of statements in all),
        then hand every delivery its own outcomes; a post repeated across deliveries is stored
        once and reported as a duplicate to the later one."""
        by_channel: dict[tuple[int, int], list[_Delivery]] = {}
        for delivery in works:
            by_channel.setdefault((delivery.channel_id, delivery.window_seconds), []).append(delivery)
        results = {}
        for (channel_id, window_seconds), deliveries in by_channel.items():
            outcomes = iter(stage_posts(channel_id, [p for d in deliveries for p in d.posts], window_seconds))
            for delivery in deliveries:
                results[id(delivery)] = [next(outcomes) for _ in delivery.posts]
        return [results[id(delivery)] for delivery in works]


def init_app(app: Flask) -> None:
    """Give the app its committer."""
    app.extensions["group_commit"] = PostCommitter(app)


def store_delivery(app: Flask, channel_id: int, posts: list[InboundPost], window_seconds: int) -> list[Outcome]:
    """Store a webhook's posts through the app's committer (committed when this returns)."""
    return app.extensions["group_commit"].store(channel_id, posts, window_seconds)
