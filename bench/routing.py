"""Routing throughput: in one process (rules + classifier + priority), and end to end
through real RQ workers into the database, each with its baseline from the same run.

In process: route_many in batches of 1,000 against route() one post at a time.
End to end: N posts are stored (as webhooks would store them), their routing
jobs queued, then `flask worker` processes (as the Procfile runs them) route
everything; the clock runs from the first conversation routed to the last.

Usage: .venv/bin/python bench/routing.py [--posts 20000] [--workers 1 2]
"""

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.classifier import DEFAULT_DATA, read_csv  # noqa: E402
from bench.routing_inprocess import EXTRA_QUEUES, RULES, make_posts, rate  # noqa: E402
from devstack.launcher import start_process, stop_process  # noqa: E402
from devstack.localredis import start_redis  # noqa: E402
from routing import compile_rules, route, route_many  # noqa: E402
from routing.classifier import train  # noqa: E402


def in_process(model, posts, queues) -> None:
    """Print posts/s through route_many (batches of 1,000) and route() alone."""
    rules = compile_rules([{"id": i, **spec} for i, spec in enumerate(RULES, 1)])
    route_many(posts[:100], rules, model, queues=queues)  # warm up
    batched = rate(lambda b: route_many(b, rules, model, queues=queues), posts, 1000)
    single = rate(lambda b: route(b[0], rules, model, queues=queues), posts[:1000], 1)
    print(f"in process, route_many x1,000 {batched:9,.0f} posts/s   (goal >= 2,000)")
    print(f"in process, route() one by one {single:8,.0f} posts/s   (batched is {batched / single:.1f}x)")


def end_to_end(model, texts: list[str], count: int, workers: int, redis_url: str) -> None:
    """Store `count` posts, queue their routing, and time `workers` real workers routing them all."""
    from workspace import create_app
    from workspace.channels.post import InboundAuthor, InboundPost
    from workspace.extensions import db
    from workspace.jobs.dispatch import dispatch_once
    from workspace.models import Channel, Conversation, ModelVersion, Queue, Rule
    from workspace.services.intake.store import stage_posts
    from workspace.services.triage.classifier import artifact_key, model_dir

    workdir = tempfile.mkdtemp(prefix="switchboard-routing-")
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.db", "REDIS_URL": redis_url,
                "RQ_QUEUE": f"bench-{uuid.uuid4().hex[:6]}", "SECRET_KEY": uuid.uuid4().hex,
                "MODEL_DIR": f"{workdir}/models", "DISPATCHER_ENABLED": False}
    app = create_app(settings)
    with app.app_context():
        db.create_all()
        channel = Channel(slug="forum", name="Forum", secret="s")
        db.session.add(channel)
        for slug in sorted(set(model.labels) | set(EXTRA_QUEUES)):
            db.session.add(Queue(slug=slug, name=slug))
        for position, spec in enumerate(RULES):
            db.session.add(Rule(position=position, **spec))
        from routing.artifacts import save_model

        path = save_model(model, model_dir(), artifact_key())
        meta = model.metadata()
        db.session.add(ModelVersion(version=meta["version"], artifact=path.name, active=True, source="file",
                                    metrics=meta["metrics"], labels=meta["labels"],
                                    training_size=meta["training_size"],
                                    library_versions=meta["library_versions"]))
        db.session.commit()
        for start in range(0, count, 500):
            posts = [InboundPost(external_id=f"p{n}", author=InboundAuthor(external_id=f"u{n}", handle=f"u{n}"),
                                 text=texts[n % len(texts)]) for n in range(start, min(count, start + 500))]
            stage_posts(channel.id, posts, 3600)
            db.session.commit()
        while dispatch_once(app.config["DISPATCH_BATCH"]):
            pass

        def unrouted() -> int:
            value = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation)
                                      .where(Conversation.status == "new"))
            db.session.rollback()
            return value

        env = dict(os.environ, DATABASE_URL=settings["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url,
                   SWITCHBOARD_RQ_QUEUE=settings["RQ_QUEUE"], SWITCHBOARD_SECRET_KEY=settings["SECRET_KEY"],
                   SWITCHBOARD_MODEL_DIR=settings["MODEL_DIR"],
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        log = open(f"{workdir}/worker.log", "w")
        processes = [start_process("worker", env, stdout=log, stderr=log) for _ in range(workers)]
        try:
            while unrouted() == count:
                time.sleep(0.01)
            started, left = time.monotonic(), unrouted()
            while (remaining := unrouted()) and time.monotonic() - started < 600:
                time.sleep(0.05)
            elapsed = time.monotonic() - started
        finally:
            for process in processes:
                stop_process(process)
        routed_count = left - remaining
        print(f"end to end, {workers} worker{'s' if workers > 1 else ' '}      {routed_count / elapsed:9,.0f} posts/s"
              f"   ({routed_count:,} routed in {elapsed:.1f} s, {remaining} left; goal >= 1,000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts routed end to end")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BANKING77_DIR", DEFAULT_DATA)))
    args = parser.parse_args()
    train_texts, train_labels = read_csv(args.data / "train.csv")
    test_texts, _ = read_csv(args.data / "test.csv")
    started = time.perf_counter()
    model = train(train_texts, train_labels, holdout=0)
    print(f"model: {len(model.labels)} labels, trained in {time.perf_counter() - started:.1f} s; "
          f"{len(RULES)} rules; {os.cpu_count()} CPUs")
    in_process(model, make_posts(test_texts, 5000), frozenset(model.labels) | frozenset(EXTRA_QUEUES))
    redis_process, redis_url = (None, os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else \
        start_redis(tempfile.mkdtemp(prefix="switchboard-redis-"))
    try:
        for workers in args.workers:
            end_to_end(model, test_texts, args.posts, workers, redis_url)
    finally:
        if redis_process:
            redis_process.terminate()


if __name__ == "__main__":
    main()
