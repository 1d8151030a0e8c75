"""What the end-to-end benchmarks run against: a Redis (REDIS_URL, or a private one) and the environment of
the Procfile's processes (for a webhook or mail bench, a web process on a fresh SQLite file)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from devstack.localredis import free_port, start_redis


def redis_for(workdir: str):
    """Start Redis in workdir unless REDIS_URL is set; returns (the Redis process or None, the Redis URL)."""
    if os.environ.get("REDIS_URL"):
        return None, os.environ["REDIS_URL"]
    return start_redis(os.path.join(workdir, "redis"))


def process_environment(workdir: str, name: str, database_url: str, redis_url: str, *,
                        models: bool = True) -> tuple[int, dict]:
    """The web and worker processes' environment on a free port, with a fresh RQ queue and secret key (and,
    with `models`, a fresh model folder in workdir).

    Returns:
        (the web port, the environment)
    """
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_RQ_QUEUE=f"{name}-{uuid.uuid4().hex[:6]}", SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if models:
        env["SWITCHBOARD_MODEL_DIR"] = f"{workdir}/models"
    return port, env


def stack_environment(workdir: str, name: str):
    """Start Redis (unless REDIS_URL is set) and build the web and worker processes' environment.

    Returns:
        (the Redis process or None, the Redis URL, the web port, the environment)
    """
    redis_process, redis_url = redis_for(workdir)
    port, env = process_environment(workdir, name, f"sqlite:///{workdir}/{name}.db", redis_url)
    return redis_process, redis_url, port, env


def bench_stack(workdir: str, **settings: str) -> tuple[subprocess.Popen | None, dict]:
    """Start a private Redis unless REDIS_URL names one; return it (None if not ours) and the processes' env.

    The env names a free PORT, a SQLite file in workdir, an RQ queue and a secret of this run only, and
    a Prometheus folder (every counter update writes to a shared memory-mapped file, as in production);
    `settings` add or override variables.
    """
    redis_process, redis_url = redis_for(workdir)
    _, env = process_environment(workdir, "bench", f"sqlite:///{workdir}/bench.db", redis_url, models=False)
    env.update(PROMETHEUS_MULTIPROC_DIR=os.path.join(workdir, "prometheus"), **settings)
    return redis_process, env
