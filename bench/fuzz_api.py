"""A long Schemathesis run over /api/v1/openapi.json: every check, many examples, stateful sequences.

The test suite (tests/web/test_openapi_fuzz.py) runs the same checks with 5 examples per operation
and phase so it stays a test; this runs that same configuration first, as the baseline, then the
long run: --examples per operation and phase over the examples, coverage and fuzzing phases, plus the
stateful phase (sequences of calls that feed one answer's ids into the next request, from links
Schemathesis infers from Location headers and from the schemas). Both run as an admin over real HTTP
against a fresh database with a few routed conversations, and print the operations covered, the
cases run, the time taken and the failures by check (each failing operation with its first failure).

SQLite by default (a temporary file); --database-url postgresql://... runs on PostgreSQL instead.
THAT DATABASE IS EMPTIED: point it at a scratch database.

Usage: .venv/bin/python bench/fuzz_api.py [--examples 100] [--seed 13] [--database-url URL]
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.localredis import start_redis  # noqa: E402
from tests.factories import SECRET, make_config, make_post  # noqa: E402
from tests.fuzzing import fuzz, fuzz_config, serving  # noqa: E402
from workspace import create_app  # noqa: E402
from workspace.channels.signature import sign  # noqa: E402
from workspace.extensions import db  # noqa: E402
from workspace.models import Agent, ApiToken, Channel, Queue  # noqa: E402
from workspace.web.api.openapi import DOCUMENT  # noqa: E402

BASELINE_EXAMPLES = 5  # what tests/web/test_openapi_fuzz.py runs
TEST_PHASES = ("examples", "coverage", "fuzzing")


def build_app(database_url: str | None, folder: str, redis_url: str):
    """A fresh app and schema with the test suite's channel and queues, an admin token and a few posts."""
    app = create_app(make_config(
        SQLALCHEMY_DATABASE_URI=database_url or f"sqlite:///{folder}/fuzz.db", REDIS_URL=redis_url,
        RQ_QUEUE=f"fuzz-{uuid.uuid4().hex[:8]}", MODEL_DIR=f"{folder}/models"))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add(Channel(slug="forum", name="Forum", kind="native", secret=SECRET))
        for slug in ("triage", "billing", "tech"):
            db.session.add(Queue(slug=slug, name=slug.title()))
        admin = Agent(email="ada@example.com", name="Ada", role="admin")
        row, token = ApiToken.issue(admin, "fuzz")
        db.session.add_all([admin, row])
        db.session.commit()
    client = app.test_client()
    for number in range(20):
        body = json.dumps(make_post(id=f"fuzz-{number}", text=f"My invoice {number} looks wrong")).encode()
        client.post("/webhooks/forum", data=body, headers={"Content-Type": "application/json",
                                                           "X-Switchboard-Signature": sign(SECRET, body)})
    return app, token


def run(app, token: str, *, examples: int, seed: int, phases: tuple[str, ...]) -> dict:
    """One Schemathesis run; what it covered and found, and how long it took."""
    started = time.perf_counter()
    with serving(app) as base_url:
        report = fuzz(base_url, fuzz_config(token, examples=examples, seed=seed, phases=phases))
    return {"report": report, "seconds": time.perf_counter() - started}


def describe(name: str, outcome: dict, documented: int) -> None:
    """Print a run's figures."""
    report = outcome["report"]
    failures = report.by_check()
    print(f"{name}: {len(report.operations)}/{documented} operations, {report.cases} cases, "
          f"{outcome['seconds']:.1f} s ({report.cases / max(outcome['seconds'], 1e-9):.0f} cases/s); "
          f"failures by check: {dict(failures) or 'none'}; engine errors: {len(report.errors)}")


def main() -> None:
    """Run the baseline and the long run; print both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and phase")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    documented = sum(len(item) for item in DOCUMENT["paths"].values())
    with tempfile.TemporaryDirectory() as folder:
        redis_process, redis_url = start_redis(folder)
        try:
            app, token = build_app(args.database_url, folder, redis_url)
            baseline = run(app, token, examples=BASELINE_EXAMPLES, seed=args.seed, phases=TEST_PHASES)
            long = run(app, token, examples=args.examples, seed=args.seed, phases=(*TEST_PHASES, "stateful"))
        finally:
            redis_process.terminate()
            redis_process.wait(timeout=10)
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; seed {args.seed}")
    describe(f"baseline (the test's run, {BASELINE_EXAMPLES} examples, no stateful)", baseline, documented)
    describe(f"long run ({args.examples} examples, with stateful)", long, documented)
    for name, outcome in (("baseline", baseline), ("long run", long)):
        for line in outcome["report"].lines() + outcome["report"].errors:
            print(f"  {name}: {line}")


if __name__ == "__main__":
    main()
