"""Browser-test helpers: a `geosim viz` server on a free loopback port, and headless Chromium.

The browser is Debian's chromium (never downloaded). Missing: skipped locally, a failure in CI.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def chromium_path() -> str:
    """Path of the system Chromium; skip the test without it, or fail when CI=true."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    message = "no Chromium found (install Debian's package: apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `geosim viz` process and where it serves."""

    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        """What the server printed so far."""
        return self.log.read_text(errors="replace")


@contextmanager
def viz_server(*args: str, timeout: float = 120.0) -> Iterator[Server]:
    """Run `geosim viz --port <free> [args]` until the page answers; stop it with Ctrl-C after.

    The stop is checked: the process must exit by itself within 20 s of SIGINT.
    """
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="geosim-viz-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "geosim", "viz", "--host", "127.0.0.1", "--port", str(port),
             *args], stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}/", process, log)
    try:
        _wait_until_ready(server, timeout)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail("geosim viz did not stop within 20 s of Ctrl-C:\n" + server.output())


def _wait_until_ready(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"geosim viz exited with {server.process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"geosim viz not ready after {timeout:.0f} s:\n{server.output()}")


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Playwright's `Browser`), closed afterwards."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What a page did: console errors, uncaught exceptions, failed and off-machine requests."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, context) -> None:
        """Listen on a browser context; block (and record) any request leaving this machine."""
        context.route("**/*", self._route)
        context.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console: {m.text} ({m.location.get('url', '')})"))
        context.on("weberror", lambda e: self.errors.append(f"page error: {e.error}"))
        context.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in LOOPBACK:
            self.external.append(url)
            route.abort()
        else:
            route.continue_()
