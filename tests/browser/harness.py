"""A real server process on a free loopback port, and headless Debian Chromium driven by chromedriver."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# What the probe of this kind of machine found necessary: no GPU, no sandbox as root, and no
# background connections (the closed network refuses them).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
    "--lang=en-GB",
)


def missing(reason: str) -> None:
    """Fail under CI (the Makefile installs everything there), skip on a developer's machine."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: run `make browser-deps assets`)")
    pytest.skip(f"{reason}: run `make browser-deps assets`")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(factory: str, timeout: float = 60.0) -> Iterator[str]:
    """Run ``uvicorn --factory factory`` on a free loopback port; yield its origin."""
    port = free_port()
    command = ["-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        yield from _serve(command, port, log, timeout)


@contextmanager
def serve_plan(store: Path, dist: Path, timeout: float = 60.0, processes: int | None = None) -> Iterator[str]:
    """Run ``plankg serve`` over a built store and dumps on a free loopback port; yield its origin.
    ``processes``: how many server processes (default: the server's, one per core)."""
    port = free_port()
    command = ["-m", "server.cli", "serve", "--store", str(store), "--dist", str(dist)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    if processes is not None:
        command += ["--processes", str(processes)]
    with tempfile.TemporaryFile() as log:
        yield from _serve(command, port, log, timeout)


def _serve(command: list[str], port: int, log: IO[bytes], timeout: float) -> Iterator[str]:
    # The server's settings come from its arguments, not from whatever PLANKG_* the caller has set.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANKG_")}
    proc = subprocess.Popen(
        [sys.executable, *command],
        cwd=REPO,  # seeds/ here holds the source text the entity pages quote
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the store's workers end with it
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-3000:]}")
            try:
                if httpx.get(origin + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.2)
        yield origin
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def chromium() -> Iterator[object]:
    """A selenium WebDriver for Debian's Chromium through Debian's chromedriver (never downloaded)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        missing("Debian chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="plankg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: object, name: str, element: object | None = None) -> Path:
    """The window (or one element of the page, scrolled into view) as ``test-artifacts/{name}.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if element is not None:
        driver.execute_script("arguments[0].scrollIntoView();", element)  # type: ignore[attr-defined]
        element.screenshot(str(path))  # type: ignore[attr-defined]
    else:
        driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    return path
