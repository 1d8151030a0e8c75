"""What the end-to-end benchmarks share: a Redis, and the environment for the Procfile's processes."""

import os
import sys
import uuid
from pathlib import Path

from devstack.localredis import free_port, start_redis


def redis_for(workdir: str):
    """Start Redis in workdir unless REDIS_URL is set; returns (the Redis process or None, the Redis URL)."""
    if os.environ.get("REDIS_URL"):
        return None, os.environ["REDIS_URL"]
    return start_redis(os.path.join(workdir, "redis"))


def process_environment(workdir: str, name: str, database_url: str, redis_url: str) -> tuple[int, dict]:
    """The web and worker processes' environment on a free port, with a fresh RQ queue and secret key.

    Returns:
        (the web port, the environment)
    """
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_RQ_QUEUE=f"{name}-{uuid.uuid4().hex[:6]}", SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex,
               SWITCHBOARD_MODEL_DIR=f"{workdir}/models",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return port, env


def stack_environment(workdir: str, name: str):
    """Start Redis (unless REDIS_URL is set) and build the web and worker processes' environment.

    Args:
        workdir: a fresh folder for the database, Redis and models.
        name: the benchmark's name, for the database file and RQ queue.

    Returns:
        (the Redis process or None, the Redis URL, the web port, the environment)
    """
    redis_process, redis_url = redis_for(workdir)
    port, env = process_environment(workdir, name, f"sqlite:///{workdir}/{name}.db", redis_url)
    return redis_process, redis_url, port, env
