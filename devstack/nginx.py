"""nginx in front of several web processes: the shipped config (deploy/nginx.conf) filled in and run
in a folder of its own, as `./bin/run --scale` and the topology tests and benchmarks use it."""

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
# Debian's nginx, as bin/nginx-setup installs it (or another one named by SWITCHBOARD_NGINX).
NGINX = os.environ.get("SWITCHBOARD_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"


def missing() -> str | None:
    """Say why nginx cannot be run here, or None when it can."""
    if os.access(NGINX, os.X_OK):
        return None
    return f"nginx not available at {NGINX} (bin/nginx-setup installs Debian's package when run as root)"


def render(listen: str, web_addresses: list[str], static: Path = ROOT / "static") -> str:
    """Fill in deploy/nginx.conf: listen on `listen`, balance over the web processes at `web_addresses`
    ("127.0.0.1:5002"), serve `static` itself. nginx's own $variables are left as they are."""
    servers = " ".join(f"server {address} max_fails=0;" for address in web_addresses)
    return Template(TEMPLATE.read_text()).safe_substitute(
        SWITCHBOARD_LISTEN=listen, SWITCHBOARD_WEB_SERVERS=servers, SWITCHBOARD_STATIC=str(static))


def prefix_folder() -> Path:
    """A fresh folder for nginx's prefix (config, pid, temporary files), removed when this process exits:
    one per launcher run, however often its nginx is started again."""
    folder = Path(tempfile.mkdtemp(prefix="switchboard-nginx-"))
    folder.chmod(0o755)  # run as root, nginx's workers are `nobody` and keep large bodies in temp/
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def start_nginx(listen: str, web_addresses: list[str], folder: Path, **popen) -> subprocess.Popen:
    """Write the config into `folder` (from prefix_folder) and run nginx in the foreground in its own
    session, after checking the config; raise RuntimeError if it is refused."""
    (folder / "temp").mkdir(exist_ok=True)
    config = folder / "nginx.conf"
    config.write_text(render(listen, web_addresses))
    command = [NGINX, "-p", str(folder), "-c", str(config), "-g", "daemon off;"]
    check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"nginx refused its config {config}: {check.stderr.strip()}")
    return subprocess.Popen(command, cwd=folder, start_new_session=True, **popen)
