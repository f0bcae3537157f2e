"""The README's picture, from the real pages: `DEBUG=true .venv/bin/python docs/screenshots.py`.

Serves the project with `manage.py runserver` on a free port, against a throwaway SQLite file
with the demo person and the demo client (`setupdemo`); in headless Chromium (Playwright, as the
browser tests drive it) starts the demo client's sign-in, photographs the sign-in page, signs in
as the demo person and photographs the consent page; then lays the two side by side in one
page and writes its picture to docs/sign-in-and-consent.png. The demo person, made an operator
for the occasion, then photographs the demo client's page in the admin: docs/admin-client.png.

The language switcher's "한국어" needs a Korean font (Debian: fonts-nanum or fonts-noto-cjk).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "sign-in-and-consent.png"
ADMIN_OUTPUT = ROOT / "docs" / "admin-client.png"
ADMIN_SIZE = {"width": 1200, "height": 900}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_SIZE = {"width": 560, "height": 720}
GAP = 16
# The two pictures side by side, each with a 1-pixel border, GAP around and between them.
SHEET_SIZE = {
    "width": 2 * (PAGE_SIZE["width"] + 2) + 3 * GAP,
    "height": PAGE_SIZE["height"] + 2 + 2 * GAP,
}
SIDE_BY_SIDE = f"""<!doctype html>
<html><head><style>
  body {{ margin: 0; padding: {GAP}px; background: #e9ecef; display: flex; gap: {GAP}px; }}
  img {{ display: block; border: 1px solid #adb5bd; }}
</style></head>
<body><img src="sign-in.png" alt=""><img src="consent.png" alt=""></body></html>
"""


OPERATOR = (
    "from accounts.models import User; "
    "User.objects.filter(username='demo').update(is_staff=True, is_superuser=True)"
)


def free_port() -> int:
    """8000, as under `make run` (the consent page names the app's host and port), if free."""
    for port in (8000, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise SystemExit("no free port")


def environment(scratch: Path, port: int) -> dict[str, str]:
    """Development settings on a throwaway database; whatever the shell names is left alone."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "ISSUER", "ALLOWED_HOSTS", "SECRET_KEY"}
    }
    return {
        **env,
        "DEBUG": "true",
        "DEMO_CLIENT": "true",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "ISSUER": f"http://127.0.0.1:{port}",
        # Offered on the sign-in page once their client ids are set; never called here.
        "GOOGLE_CLIENT_ID": "screenshot",
        "NAVER_CLIENT_ID": "screenshot",
        "KAKAO_CLIENT_ID": "screenshot",
    }


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@contextmanager
def server(env: dict[str, str], port: int) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=2).ok:
                    break
            except requests.RequestException:  # not listening yet, or still booting
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the development server did not start")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def photograph(page: Page, port: int, password: str, scratch: Path) -> None:
    """The demo client's sign-in: the sign-in page, then (signed in) the consent page."""
    page.goto(f"http://localhost:{port}/demo/")
    page.click("#demo-sign-in")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", "demo")
    page.screenshot(path=scratch / "sign-in.png")
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/oauth/authorize"))
    page.get_by_text("wants to use your account").wait_for()
    page.screenshot(path=scratch / "consent.png")


def photograph_admin(page: Page, port: int) -> None:
    """The demo client's page in the admin, as an operator opens it."""
    page.goto(f"http://127.0.0.1:{port}/admin/oauth/client/")
    page.get_by_role("link", name="Demo client").click()
    page.wait_for_url(re.compile(r"/admin/oauth/client/\d+/change/"))
    page.screenshot(path=ADMIN_OUTPUT)


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        port = free_port()
        env = environment(scratch, port)
        manage(env, "migrate", "--noinput", "-v0")
        printed = manage(env, "setupdemo", "--port", str(port))
        found = re.search(r"Sign in as:\s+demo / (\S+)", printed)
        if found is None:
            raise SystemExit(f"setupdemo printed no password:\n{printed}")
        manage(env, "shell", "-c", OPERATOR)
        with server(env, port), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = browser.new_page(viewport=PAGE_SIZE, locale="en-US")
                photograph(page, port, found.group(1), scratch)
                side_by_side = scratch / "side-by-side.html"
                side_by_side.write_text(SIDE_BY_SIDE)
                sheet = browser.new_page(viewport=SHEET_SIZE)
                sheet.goto(side_by_side.as_uri())
                sheet.screenshot(path=OUTPUT)
                admin = browser.new_page(viewport=ADMIN_SIZE, locale="en-US")
                admin.goto(f"http://127.0.0.1:{port}/accounts/login/")
                admin.fill("input[name=username]", "demo")
                admin.fill("input[name=password]", found.group(1))
                admin.click("button[type=submit].primary")
                admin.wait_for_url(re.compile(r"/accounts/"))
                photograph_admin(admin, port)
            finally:
                browser.close()
    for written in (OUTPUT, ADMIN_OUTPUT):
        print(f"wrote {written.relative_to(ROOT)} ({written.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
