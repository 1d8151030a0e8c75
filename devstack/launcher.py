"""Run the whole stack locally: Redis (unless REDIS_URL is set), migrations, demo data,
and the Procfile's processes, until Ctrl-C.

Usage: python -m devstack.launcher [--no-demo]
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The processes a local run needs, by Procfile name.
PROCESSES = ("web", "worker", "scheduler")


def procfile() -> dict[str, str]:
    """Return the Procfile's commands by process name."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): command.strip() for name, _, command in
            (line.partition(":") for line in lines if line.strip() and not line.startswith("#"))}


def start_process(name: str, env: dict, **popen) -> subprocess.Popen:
    """Start one Procfile process (web, worker, scheduler) in its own session."""
    return subprocess.Popen(procfile()[name], shell=True, cwd=ROOT, env=env, start_new_session=True, **popen)


def stop_process(child: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a process started by start_process, and its children, politely then firmly."""
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            child.terminate()
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def wait_healthy(base: str, timeout: float = 60.0) -> bool:
    """Poll GET /healthz until it answers 200 or the time runs out; tell which."""
    from urllib.error import URLError
    from urllib.request import urlopen

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except (URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def flask(env: dict, *args: str) -> str:
    """Run a flask CLI command in this virtualenv and return its output (fail loudly)."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def wire_ticketing_stub(env: dict) -> str | None:
    """Point Switchboard at the bundled ticketing stub (unless SWITCHBOARD_TICKETING_URL names a real one).

    The stub's API token and webhook secret are made once and kept in the
    instance folder, like its tickets, so a restart keeps working with both.

    Returns:
        The stub's URL, or None when a real ticketing system is configured.
    """
    if env.get("SWITCHBOARD_TICKETING_URL"):
        return None
    path = ROOT / "instance" / "ticketing_stub.json"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"token": secrets.token_urlsafe(24), "webhook_secret": secrets.token_hex(32)}))
        path.chmod(0o600)
    stub = json.loads(path.read_text())
    env.setdefault("TICKETS_PORT", str(int(env["PORT"]) + 1))
    email = "switchboard@example.com"
    env.update(SWITCHBOARD_TICKETING_URL=f"http://127.0.0.1:{env['TICKETS_PORT']}", SWITCHBOARD_TICKETING_EMAIL=email,
               SWITCHBOARD_TICKETING_TOKEN=stub["token"], SWITCHBOARD_TICKETING_WEBHOOK_SECRET=stub["webhook_secret"],
               TICKETS_API_EMAIL=email, TICKETS_API_TOKEN=stub["token"], TICKETS_WEBHOOK_SECRET=stub["webhook_secret"],
               TICKETS_WEBHOOK_URL=f"http://127.0.0.1:{env['PORT']}/webhooks/ticketing/status")
    env.setdefault("SWITCHBOARD_PUBLIC_URL", f"http://localhost:{env['PORT']}")
    return env["SWITCHBOARD_TICKETING_URL"]


def relay(name: str, stream) -> None:
    """Copy a child's output to ours, each line prefixed with its process name."""
    for line in stream:
        sys.stdout.write(f"{name:9} | {line}")
        sys.stdout.flush()


def main() -> None:
    """Start everything, print where to go, and stop everything on Ctrl-C."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PORT", "5000")
    children: list[subprocess.Popen] = []
    if not env.get("REDIS_URL"):
        from devstack.localredis import start_redis

        redis_process, env["REDIS_URL"] = start_redis(str(ROOT / "instance" / "redis"))
        children.append(redis_process)
    stub = wire_ticketing_stub(env)
    try:
        flask(env, "db", "upgrade")
        demo = "" if "--no-demo" in sys.argv else flask(env, "seed")
        for name in PROCESSES + (("tickets",) if stub else ()):
            child = start_process(name, env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            threading.Thread(target=relay, args=(name, child.stdout), daemon=True).start()
            children.append(child)
        print(f"\nSwitchboard is running at http://localhost:{env['PORT']}/  (Ctrl-C stops it)\n"
              f"REDIS_URL={env['REDIS_URL']}  (export it to use `flask --app wsgi ...` alongside)\n"
              f"Escalations go to {stub + '/  (the ticketing stub)' if stub else env['SWITCHBOARD_TICKETING_URL']}\n"
              f"{demo}",
              flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(child.poll() is None for child in children):
            threading.Event().wait(0.5)
        sys.exit("a process exited; stopping the rest")
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            stop_process(child)


if __name__ == "__main__":
    main()
