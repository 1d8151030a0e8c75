"""The soak's own servers, which it restarts on schedule: a throwaway PostgreSQL cluster and a persisted Redis."""

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from devstack.localredis import free_port, start_redis

# A killed service stays down this long before it is started again.
OUTAGE_SECONDS = 3.0


class Postgres:
    """A throwaway PostgreSQL cluster on a free port, run as the postgres user when we are root."""

    def __init__(self, bindir: str, folder: str):
        self.bindir, self.folder = bindir, folder
        self.data = os.path.join(folder, "data")
        self.port = free_port()
        os.makedirs(folder, exist_ok=True)
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(folder, "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        """Run one of the cluster's tools, failing loudly."""
        result = subprocess.run([*self.prefix, os.path.join(self.bindir, tool), *args], capture_output=True,
                                text=True)
        if result.returncode:
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}")

    def _ctl(self, action: str, *args: str) -> None:
        # fsync off: a soak on a shared disk; a fast (clean) restart loses nothing without it.
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", action, "-D", self.data, "-w", "-l", os.path.join(self.folder, "postgres.log"),
                  "-o", options, *args)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._ctl("start")

    def restart(self) -> None:
        """Stop the server (fast mode: sessions are cut off) and start it again."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        """Stop the server for good."""
        self._ctl("stop", "-m", "fast")

    def alive(self) -> bool:
        """Whether the server accepts connections."""
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def postgres_bindir() -> str | None:
    """Debian's newest PostgreSQL server binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


class Redis:
    """The stack's Redis, persisted (AOF) in its folder, always on the same port."""

    def __init__(self, folder: str):
        self.folder = folder
        self.process, self.url = start_redis(folder, persist=True)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def restart(self, keep_data: bool) -> None:
        """Kill the server (SIGKILL: no final write), optionally delete its data, and start it again."""
        self.process.kill()
        self.process.wait()
        if not keep_data:
            for path in Path(self.folder).glob("appendonly*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        time.sleep(OUTAGE_SECONDS)
        self.process, _ = start_redis(self.folder, self.port, persist=True)
