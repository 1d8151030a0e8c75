"""Run the whole stack locally: Redis (unless REDIS_URL is set), migrations, demo data,
and the Procfile's processes, until Ctrl-C. A process that dies is started again
(after a wait that grows while it keeps dying), not a reason to stop the rest.

With --scale, the production topology on one machine: nginx on PORT in front
of N web processes (on 127.0.0.1, ports PORT+2 onwards), N workers, N SMTP
listeners (sharing their port), one scheduler, all supervised alike.

Usage: python -m devstack.launcher [--no-demo] [--database URL] [--scale web=2,worker=2,smtp=2]
"""

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from devstack import nginx
from devstack.localredis import free_port, start_redis
from devstack.processes import live_groups

ROOT = Path(__file__).resolve().parent.parent
# The processes a local run needs, by Procfile name.
PROCESSES = ("web", "worker", "scheduler", "smtp")
# A process that dies is started again after this wait, doubled each time it dies young, up to the longest.
RESTART_FIRST_SECONDS = 1.0
RESTART_LONGEST_SECONDS = 30.0
# A process that ran this long before it died was healthy: its next restart waits the least again.
HEALTHY_SECONDS = 60.0
# On Ctrl-C every process is asked to stop at once and killed if still there after this long
# (gunicorn's own graceful timeout, in the Procfile, is shorter).
STOP_SECONDS = 4.5
# What --scale may scale; nginx, the scheduler and the ticketing stub are one each. SMTP listeners share
# their port (SO_REUSEPORT), so several need nothing in front.
SCALABLE = ("web", "worker", "smtp")


def procfile() -> dict[str, str]:
    """Return the Procfile's commands by process name."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): command.strip() for name, _, command in
            (line.partition(":") for line in lines if line.strip() and not line.startswith("#"))}


def start_process(name: str, env: dict, **popen) -> subprocess.Popen:
    """Start one Procfile process (web, worker, scheduler) in its own session."""
    # `exec`: the process itself, not a shell that a stop signal would end before it, is what we wait for.
    return subprocess.Popen(f"exec {procfile()[name]}", shell=True, cwd=ROOT, env=env, start_new_session=True,
                            **popen)


def stop_process(child: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a process started by start_process, and its children, politely then firmly."""
    stop_all([child], timeout)


def stop_all(children: list[subprocess.Popen], timeout: float = 10) -> list[float | None]:
    """Ask every process (and its children) to stop at once, then kill what is left after `timeout`.

    Returns:
        For each child, in order, the seconds its whole process group took to go, or None when it was killed.
    """
    started = time.monotonic()
    for child in children:
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                child.terminate()
    took: dict[int, float] = {}
    # Each child leads its own process group: it is gone when the whole group is (gunicorn's workers, say).
    while len(took) < len(children) and time.monotonic() < started + timeout:
        groups = live_groups()
        for number, child in enumerate(children):
            if number not in took and child.poll() is not None and child.pid not in groups:
                took[number] = time.monotonic() - started
        time.sleep(0.05)
    for number, child in enumerate(children):
        if number not in took:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                child.kill()
        child.wait()
    return [took.get(number) for number in range(len(children))]


def wait_healthy(base: str, timeout: float = 60.0) -> bool:
    """Poll GET /healthz until it answers 200 or the time runs out; tell which."""
    from http.client import HTTPException
    from urllib.error import URLError
    from urllib.request import urlopen

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return True
        except (URLError, OSError, HTTPException):  # not listening yet, or a half-started server's garbled answer
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


def metrics_folder(env: dict) -> str:
    """Point every process at one folder for their Prometheus counters (instance/prometheus unless
    PROMETHEUS_MULTIPROC_DIR names one) and empty it: a new run's counters start from zero."""
    folder = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(ROOT / "instance" / "prometheus")))
    folder.mkdir(parents=True, exist_ok=True)
    # Only prometheus_client's own files (counter_<pid>.db, gauge_livesum_<pid>.db, ...): the folder may be shared.
    for kind in ("counter", "gauge", "histogram", "summary"):
        for stale in folder.glob(f"{kind}_*.db"):
            stale.unlink()
    return str(folder)


def announce_when_up(base: str, banner: str, timeout: float = 120.0) -> None:
    """Print the banner again once the web process answers, below the processes' start-up lines where it
    cannot be missed; or say that it does not answer."""
    if wait_healthy(base, timeout):
        print(f"\n{banner}", flush=True)
    else:
        say("web", f"not answering at {base} after {timeout:.0f} s; its lines above say why")


def relay(name: str, stream) -> None:
    """Copy a child's output to ours, each line prefixed with its process name."""
    for line in stream:
        sys.stdout.write(f"{name:9} | {line}")
        sys.stdout.flush()


def say(name: str, text: str) -> None:
    """Print a launcher line about one process, in the same column layout as the relayed output."""
    print(f"{name:9} | [launcher] {text}", flush=True)


class Supervised:
    """One child the launcher keeps running: how to start it, and when to start it again after it dies."""

    def __init__(self, name: str, start: Callable[[], subprocess.Popen], first_wait: float = RESTART_FIRST_SECONDS):
        self.name, self.start, self.first_wait = name, start, first_wait
        self.wait = first_wait
        self.restart_at: float | None = None
        self.child = start()
        self.started = time.monotonic()

    def check(self) -> None:
        """Notice a death (and plan the restart), or start the process again once its wait is over."""
        now = time.monotonic()
        if self.restart_at is None:
            code = self.child.poll()
            if code is None:
                return
            if now - self.started >= HEALTHY_SECONDS:
                self.wait = self.first_wait
            self.restart_at = now + self.wait
            say(self.name, f"exited with code {code}; starting it again in {self.wait:.0f} s")
            self.wait = min(self.wait * 2, RESTART_LONGEST_SECONDS)
        elif now >= self.restart_at:
            try:
                self.child = self.start()
            except (OSError, RuntimeError) as error:
                self.restart_at = now + self.wait
                say(self.name, f"could not start ({error}); trying again in {self.wait:.0f} s")
                return
            self.started, self.restart_at = now, None
            say(self.name, f"started again (pid {self.child.pid})")

    def stop(self) -> None:
        """Stop the process for good."""
        stop_process(self.child)


def stop_supervised(supervised: list[Supervised]) -> None:
    """Stop every process at once, Redis last (the others may still talk to it on their way out)."""
    for group in ([process for process in supervised if process.name != "redis"],
                  [process for process in supervised if process.name == "redis"]):
        for process, took in zip(group, stop_all([process.child for process in group], STOP_SECONDS), strict=True):
            say(process.name, f"stopped in {took:.1f} s" if took is not None else
                f"still there {STOP_SECONDS:.1f} s after SIGTERM: killed")


def relayed(name: str, env: dict, kind: str | None = None) -> Callable[[], subprocess.Popen]:
    """A starter for one Procfile process (`kind`, by default its name) whose output is copied to ours."""
    return relaying(name, lambda **popen: start_process(kind or name, env, **popen))


def relayed_nginx(listen: str, web_addresses: list[str]) -> Callable[[], subprocess.Popen]:
    """A starter for nginx in front of the web processes, its output copied to ours."""
    folder = nginx.prefix_folder()
    return relaying("nginx", lambda **popen: nginx.start_nginx(listen, web_addresses, folder, **popen))


def relaying(name: str, start_child: Callable[..., subprocess.Popen]) -> Callable[[], subprocess.Popen]:
    """Wrap a starter (taking Popen's keywords) so the child's output is copied to ours, prefixed by `name`."""
    def start() -> subprocess.Popen:
        child = start_child(text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=relay, args=(name, child.stdout), daemon=True).start()
        return child
    return start


def parse_scale(text: str) -> dict[str, int]:
    """Read --scale's "web=2,worker=2" (each at least 1); an unknown name or bad count is an error."""
    scale = {kind: 1 for kind in SCALABLE}
    for part in filter(None, text.split(",")):
        kind, _, count = part.partition("=")
        if kind.strip() not in SCALABLE or not count.strip().isdigit() or int(count) < 1:
            raise argparse.ArgumentTypeError(f"{part!r}: expected web=N, worker=N or smtp=N with N >= 1")
        scale[kind.strip()] = int(count)
    return scale


def scaled_processes(env: dict, scale: dict[str, int]) -> list[tuple[str, Callable[[], subprocess.Popen]]]:
    """The processes of the topology: nginx on PORT, web processes on 127.0.0.1 from PORT+2 (behind it,
    believing its X-Forwarded-For), workers, SMTP listeners on one port, and one scheduler; named web1,
    web2, worker1, ..., smtp1, ..."""
    port = int(env["PORT"])
    addresses = [f"127.0.0.1:{port + 2 + n}" for n in range(scale["web"])]
    processes = [("nginx", relayed_nginx(env["PORT"], addresses))]
    for number, address in enumerate(addresses, 1):
        web_env = dict(env, WEB_HOST="127.0.0.1", PORT=address.rsplit(":", 1)[1], SWITCHBOARD_PROXY_COUNT="1")
        processes.append((f"web{number}", relayed(f"web{number}", web_env, "web")))
    processes += [(f"worker{n}", relayed(f"worker{n}", env, "worker")) for n in range(1, scale["worker"] + 1)]
    smtp_env = dict(env, SWITCHBOARD_SMTP_SHARED_PORT="1") if scale["smtp"] > 1 else env
    processes += [(f"smtp{n}", relayed(f"smtp{n}", smtp_env, "smtp")) for n in range(1, scale["smtp"] + 1)]
    processes.append(("scheduler", relayed("scheduler", env)))
    return processes


def private_redis(env: dict) -> Callable[[], subprocess.Popen]:
    """A starter for the private Redis: persisted (AOF) in instance/redis, always on the port it first got."""
    folder = str(ROOT / "instance" / "redis")
    port = None

    def start() -> subprocess.Popen:
        nonlocal port
        process, env["REDIS_URL"] = start_redis(folder, port, persist=True)
        port = int(env["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
        return process
    return start


def demo_relay(env: dict) -> tuple[list[str], Callable[[], subprocess.Popen]]:
    """The demo's outbound relay (devstack.relay) on ports chosen once, so its restarts keep them: returns the
    seed's options that point the demo channels' replies at it, and its starter."""
    port, smtp_port, key = free_port(), free_port(), secrets.token_urlsafe(18)
    log = ROOT / "instance" / "relay.jsonl"
    command = [sys.executable, "-m", "devstack.relay", "--port", str(port), "--smtp-port", str(smtp_port),
               "--log", str(log), "--api-key", key]
    start = relaying("relay", lambda **popen: subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                                                               **popen))
    return ["--relay", f"http://127.0.0.1:{port}", "--relay-key", key, "--relay-smtp-port", str(smtp_port)], start


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the launcher's options."""
    parser = argparse.ArgumentParser(prog="bin/run", description=__doc__.splitlines()[0])
    parser.add_argument("--no-demo", action="store_true", help="skip the demo data")
    parser.add_argument("--database", metavar="URL", help="the database (DATABASE_URL); default a SQLite file in "
                                                         "instance/")
    parser.add_argument("--scale", type=parse_scale, metavar="web=N,worker=N,smtp=N",
                        help="run N web processes behind nginx on PORT, N workers and N SMTP listeners")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start everything, print where to go, keep every process running, and stop everything on Ctrl-C."""
    options = arguments(argv)
    if options.scale and (reason := nginx.missing()):
        sys.exit(f"--scale needs nginx in front of the web processes: {reason}")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PORT", "5000")
    if options.database:
        env["DATABASE_URL"] = options.database
    supervised: list[Supervised] = []
    if not env.get("REDIS_URL"):
        supervised.append(Supervised("redis", private_redis(env)))
    stub = wire_ticketing_stub(env)
    metrics_folder(env)
    try:
        flask(env, "db", "upgrade")
        flask(env, "push", "keys")  # the VAPID key pair, made once in instance/
        relay_options: list[str] = []
        if not options.no_demo:
            relay_options, start_relay = demo_relay(env)
            supervised.append(Supervised("relay", start_relay))
        demo = "" if options.no_demo else flask(env, "seed", *relay_options)
        if options.scale:
            processes = scaled_processes(env, options.scale)
        else:
            processes = [(name, relayed(name, env)) for name in PROCESSES]
        if stub:
            processes.append(("tickets", relayed("tickets", env)))
        for name, start in processes:
            supervised.append(Supervised(name, start))
        tickets = stub + '/  (the ticketing stub)' if stub else env['SWITCHBOARD_TICKETING_URL']
        banner = (f"Switchboard is running at http://localhost:{env['PORT']}/  (Ctrl-C stops it)\n"
                  f"REDIS_URL={env['REDIS_URL']}  (export it to use `flask --app wsgi ...` alongside)\n"
                  f"Escalations go to {tickets}\n"
                  f"Mail in: smtp://{env.get('SWITCHBOARD_SMTP_HOST', '127.0.0.1')}:"
                  f"{env.get('SWITCHBOARD_SMTP_PORT', '2525')}\n"
                  + (f"Replies go to the demo relay at {relay_options[1]}/ (what it got)\n" if relay_options else "")
                  + f"Processes: {', '.join(name for name, _ in processes)}\n"
                  f"{demo}")
        print(f"\n{banner}", flush=True)
        threading.Thread(target=announce_when_up, args=(f"http://127.0.0.1:{env['PORT']}", banner),
                         daemon=True).start()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            threading.Event().wait(0.5)
            for process in supervised:
                process.check()
    except KeyboardInterrupt:
        pass
    finally:
        stop_supervised(supervised)


if __name__ == "__main__":
    main()
