"""Shared fixtures. ``fake_server``: a scriptable Chat Completions server on 127.0.0.1 (see
``tests/support/fakeserver.py`` for the script API)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.env import isolate  # noqa: E402
from support.fakeserver import FakeServer  # noqa: E402

# A runner started in the background of a non-interactive shell inherits SIGINT ignored, and so
# would every lime it spawns: the Ctrl-C tests need Ctrl-C to arrive as it does on a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A fresh server per test: ``.base_url`` (http://127.0.0.1:PORT/v1), ``.enqueue(...)``, ``.requests``."""
    server = FakeServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def other_server() -> Iterator[FakeServer]:
    """A second fake server on another port: another origin, for redirects that must not be followed."""
    server = FakeServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def lime_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated config home, with every provider key variable cleared."""
    home = tmp_path / "lime-home"
    isolate(monkeypatch, home)
    return home
