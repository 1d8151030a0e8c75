"""What a webhook or mail bench runs against: a Redis (REDIS_URL, or a private one) and the environment of
a web process on a fresh SQLite file, deployed as ./bin/run deploys it."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from devstack.localredis import free_port, start_redis


def redis_for(workdir: str) -> tuple[subprocess.Popen | None, str]:
    """Start a private Redis in workdir unless REDIS_URL names one; return it (None if not ours) and its URL."""
    if os.environ.get("REDIS_URL"):
        return None, os.environ["REDIS_URL"]
    return start_redis(os.path.join(workdir, "redis"))


def process_environment(workdir: str, name: str, database_url: str, redis_url: str,
                        **settings: str) -> tuple[int, dict]:
    """The web and worker processes' environment: a free PORT, an RQ queue, a secret and a model folder of this
    run only, and a Prometheus folder (every counter update writes to a shared memory-mapped file, as in production);
    `settings` add or override variables.

    Returns:
        (the web port, the environment)
    """
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_RQ_QUEUE=f"{name}-{uuid.uuid4().hex[:6]}", SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex,
               SWITCHBOARD_MODEL_DIR=os.path.join(workdir, "models"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PROMETHEUS_MULTIPROC_DIR=os.path.join(workdir, "prometheus"), **settings)
    return port, env


def bench_stack(workdir: str, **settings: str) -> tuple[subprocess.Popen | None, dict]:
    """Start a private Redis unless REDIS_URL names one; return it (None if not ours) and the processes' env
    (see process_environment) on a fresh SQLite file in workdir."""
    redis_process, redis_url = redis_for(workdir)
    _, env = process_environment(workdir, "bench", f"sqlite:///{workdir}/bench.db", redis_url, **settings)
    return redis_process, env
