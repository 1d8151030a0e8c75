"""What a webhook or mail bench runs against: a Redis (REDIS_URL, or a private one) and the environment of
a web process on a fresh SQLite file, deployed as ./bin/run deploys it."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from devstack.localredis import free_port, start_redis


def bench_stack(workdir: str, **settings: str) -> tuple[subprocess.Popen | None, dict]:
    """Start a private Redis unless REDIS_URL names one; return it (None if not ours) and the processes' env.

    The env names a free PORT, a SQLite file in workdir, an RQ queue and a secret of this run only, and
    a Prometheus folder (every counter update writes to a shared memory-mapped file, as in production);
    `settings` add or override variables.
    """
    redis_process = None
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        redis_process, redis_url = start_redis(os.path.join(workdir, "redis"))
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{workdir}/bench.db", REDIS_URL=redis_url,
               PORT=str(free_port()), SWITCHBOARD_RQ_QUEUE=f"bench-{uuid.uuid4().hex[:6]}",
               SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PROMETHEUS_MULTIPROC_DIR=os.path.join(workdir, "prometheus"), **settings)
    return redis_process, env
