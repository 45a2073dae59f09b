"""Shared helpers for tests that look at pages: a real optuna-dashboard server and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import pytest

# Chromium as a person's browser, minus what this machine's closed network refuses (background fetches)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read()


def wait(url: str, proc: subprocess.Popen, seconds: float = 90) -> bytes:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"dashboard exited: {proc.communicate()}")
        try:
            return get(url)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds} s")


@contextmanager
def dashboard(name: str, studies: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`segsearch dashboard NAME` as a subprocess on a free port; yields its base URL once it answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "segsearch", "dashboard", name, "--studies-dir", str(studies),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={k: v for k, v in os.environ.items() if k != "SEGSEARCH_STORAGE"})
    try:
        base = f"http://127.0.0.1:{port}"
        wait(f"{base}/api/studies", proc)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def chromium_path() -> str:
    """Debian's chromium (README: Development and tests). Skips without it, except under CI, where
    .ci/run installs it and its absence is a failure."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("CI: no chromium on PATH (.ci/run installs Debian's chromium package)")
    pytest.skip("no chromium on PATH: `apt-get install chromium` runs the browser tests")


def browse(url: str, profile: Path, screenshot: Path | None = None, size: tuple[int, int] = (1400, 1800),
           settle_ms: int = 15000) -> str:
    """The page as a browser renders it, after its scripts ran (``settle_ms`` of virtual time): the DOM's
    HTML, and a PNG of the window when ``screenshot`` is given."""
    args = [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
            f"--virtual-time-budget={settle_ms}"]
    if screenshot is not None:
        subprocess.run([*args, f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=True)
        assert screenshot.is_file(), f"chromium wrote no screenshot of {url}"
    done = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


class _Text(HTMLParser):
    """What a person reads on a page: text outside scripts and styles (SVG text of plots included), and
    the tables as rows of cells."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self._skip = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.chunks.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_page(dom: str) -> _Text:
    page = _Text()
    page.feed(dom)
    return page


def page_text(dom: str) -> str:
    return " ".join(" ".join(read_page(dom).chunks).split())


def distinct_colours(png: Path) -> int:
    """How many colours a screenshot holds: a page of text and blank space has a few hundred, one that
    shows its plots and images thousands."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as im:
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    return len(np.unique(rgb, axis=0))
