"""Retake the pictures in the README and docs/: the console and the dashboard, on a desk and on a phone.

Starts a private stack on a fresh SQLite database with the demo data (as `bin/run` does), lets the worker
route the demo posts, signs the demo agent and supervisor in with Debian's Chromium (Playwright) and saves
docs/console.png, docs/console-phone.png, docs/dashboard.png and docs/dashboard-phone.png.

Usage: .venv/bin/python -m devstack.screenshots
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from devstack.launcher import flask, start_process, stop_all, wait_healthy
from devstack.localredis import free_port, start_redis

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "switchboard-demo"
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(browser, base: str, email: str, viewport: dict):
    """A fresh browser context signed in as `email`; returns its page."""
    page = browser.new_context(viewport=viewport, device_scale_factor=1).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def console(browser, base: str) -> None:
    """Ana in billing with a conversation open (desk); the list, then the conversation (phone)."""
    page = sign_in(browser, base, "ana@example.com", DESK)
    page.wait_for_selector("#connection.live", state="attached")
    page.click('#queues li[data-queue="billing"]')
    page.wait_for_function("() => document.querySelector('#list-title').textContent.startsWith('Billing')")
    page.locator("#rows .row").nth(1).click()
    page.wait_for_selector("#cust-history li")
    time.sleep(1)
    page.screenshot(path=str(DOCS / "console.png"))
    phone = sign_in(browser, base, "ana@example.com", PHONE)
    phone.wait_for_selector("#connection.live", state="attached")
    phone.click("#back")  # on a phone the list shows first; the queues are one step back
    phone.click('#queues li[data-queue="billing"]')
    phone.wait_for_function("() => document.querySelector('#list-title').textContent.startsWith('Billing')")
    time.sleep(1)
    phone.screenshot(path=str(DOCS / "console-phone.png"))


def dashboard(browser, base: str) -> None:
    """Sam's dashboard, on a desk and on a phone."""
    for viewport, name in ((DESK, "dashboard.png"), (PHONE, "dashboard-phone.png")):
        page = sign_in(browser, base, "sam@example.com", viewport)
        page.goto(f"{base}/dashboard")
        page.wait_for_selector("#queue-table tbody tr")
        time.sleep(2)  # the charts draw after the tables
        page.screenshot(path=str(DOCS / name))


def main() -> None:
    """Run the stack, take the pictures, stop the stack."""
    from playwright.sync_api import sync_playwright

    workdir = tempfile.mkdtemp(prefix="switchboard-screens-")
    redis_process, redis_url = start_redis(os.path.join(workdir, "redis"))
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{workdir}/screens.db", REDIS_URL=redis_url, PORT=str(port),
               SWITCHBOARD_SECRET_KEY=uuid.uuid4().hex, SWITCHBOARD_MODEL_DIR=f"{workdir}/models",
               SWITCHBOARD_RQ_QUEUE=f"screens-{uuid.uuid4().hex[:6]}",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    base = f"http://127.0.0.1:{port}"
    flask(env, "db", "upgrade")
    print(flask(env, "seed"))
    with open(os.path.join(workdir, "stack.log"), "w") as log:
        children = [start_process(name, env, stdout=log, stderr=log) for name in ("web", "worker")]
        try:
            if not wait_healthy(base):
                sys.exit(f"the web process did not start; see {workdir}/stack.log")
            time.sleep(8)  # the worker routes the demo posts
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                console(browser, base)
                dashboard(browser, base)
                browser.close()
        finally:
            stop_all(children)
            redis_process.terminate()
    subprocess.run(["ls", "-l", *map(str, DOCS.glob("*.png"))], check=False)


if __name__ == "__main__":
    main()
