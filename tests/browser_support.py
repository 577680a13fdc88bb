"""The dashboard server and browser settings shared by every browser test (tests/test_dashboard_*e2e*.py).

One ``python -m dashboard.serve`` for the whole test session (the ``server`` fixture in tests/conftest.py):
starting Streamlit costs seconds, so test files open their own pages on the same server.
Needs /usr/bin/chromium and fonts-noto-cjk: ``bash scripts/install-test-deps.sh`` (CI runs it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from system_deps import require

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SCREENSHOTS = {lang: Path(tempfile.gettempdir()) / f"five_society_dashboard_{lang}.png" for lang in ("en", "zh")}
TIMEOUT = 90_000  # ms; Streamlit reruns and the first plotly render are slow on a busy machine
ACTION_TIMEOUT = 15_000  # ms; one click of the random-order test

try:
    from playwright.sync_api import Error as PlaywrightError  # noqa: F401 (re-exported for the browser tests)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT)
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None


def settled(page) -> None:
    """Wait until the page's run has finished. Streamlit draws a page element by element, so the week's text can be
    new while the numbers below it are still an earlier run's; and the status widget ("Running…") shows only after a
    delay, so its absence alone let a test read a number from a run that was cut short by the next click (seen on a
    loaded machine: a run's public cost read at ¥1,154, week 1's, with "Week 3 of 3" shown). The app element carries
    the script's run state (Streamlit's own browser tests wait for it too)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProxyTrap:
    """A dead-end HTTP(S) proxy on loopback, given to the server as HTTP(S)_PROXY: any outbound request the
    server (or its worker processes) makes with requests/urllib connects here and is recorded, never sent."""

    def __init__(self) -> None:
        self.hits: list[bytes] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.hits.append(conn.recv(200) or b"(connected)")
                except OSError:
                    self.hits.append(b"(connected)")

    def close(self) -> None:
        self.sock.close()


def serve_dashboard(tmp_path_factory):
    """``python -m dashboard.serve --port <free port>``, started from an empty folder with an empty HOME (so that
    only the launcher's own settings apply), stopped at the end."""
    require(CHROMIUM.exists(), f"Debian's Chromium ({CHROMIUM}), which the dashboard's browser tests need")
    if sync_playwright is None:
        pytest.fail("playwright (python) is missing: install the dev extras, pip install -e '.[dev]'")
    port = _free_port()
    work = tmp_path_factory.mktemp("serve")
    trap = ProxyTrap()
    proxies = {name: trap.url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                                           "all_proxy")}
    env = {**os.environ, **proxies, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "HOME": str(work), "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    log = (work / "server.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--port", str(port)], cwd=work, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"python -m dashboard.serve exited with {proc.returncode}:\n{log.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the dashboard did not answer at {url} within 60 s:\n{log.read()}")
            time.sleep(0.5)
        yield SimpleNamespace(url=url, trap=trap)
    finally:
        trap.close()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()




@contextmanager
def browser_page(server, query: str = "lang=en", viewport: tuple[int, int] = (1400, 2200), locale: str = "en-US"):
    """A new Chromium page on ``server`` at ``/?{query}``, every request it makes recorded and only the serving
    host let through. Yields SimpleNamespace(page, requests, context)."""
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True,
                                      locale=locale)
        context.set_default_timeout(TIMEOUT)

        def guard(route):  # record everything; let only the serving host through
            requests.append(route.request.url)
            host = urlsplit(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
                route.continue_()
            else:
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("websocket", lambda ws: requests.append(ws.url))
        page.goto(f"{server.url}/?{query}")
        try:
            yield SimpleNamespace(page=page, requests=requests, context=context)
        finally:
            context.close()
            browser.close()
