"""What the end-to-end benchmarks share: a Redis, and the environment for the Procfile's processes."""

import os
import sys
import uuid
from pathlib import Path

from workspace.localredis import free_port, start_redis


def stack_environment(workdir: str, name: str):
    """Start Redis (unless REDIS_URL is set) and build the web and worker processes' environment.

    Args:
        workdir: a fresh folder for the database, Redis and models.
        name: the benchmark's name, for the database file and RQ queue.

    Returns:
        (the Redis process or None, the Redis URL, the web port, the environment)
    """
    redis_process, redis_url = (None, os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else \
        start_redis(os.path.join(workdir, "redis"))
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{workdir}/{name}.db", REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_RQ_QUEUE=f"{name}-{uuid.uuid4().hex[:6]}", SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex,
               SWITCHBOARD_MODEL_DIR=f"{workdir}/models",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return redis_process, redis_url, port, env
