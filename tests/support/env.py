"""The environment of a user with no keys and only a given config home, for the process under test
(``isolate``) and for the ``lime`` processes a test starts (``user_env``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _leaks(name: str) -> bool:
    """Variables from the outer environment that would change what lime does: keys, base URLs, knobs."""
    return name.endswith("_API_KEY") or name == "OPENAI_BASE_URL" or name.startswith("LIME_")


def user_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _leaks(k)}
    env["LIME_CONFIG_HOME"] = str(home)
    env.update(extra)
    return env


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path, **extra: str) -> None:
    for name in list(os.environ):
        if _leaks(name):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIME_CONFIG_HOME", str(home))
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
