"""Shared fixtures. ``fake_server``: a scriptable Chat Completions server on 127.0.0.1 (see
``tests/support/fakeserver.py`` for the script API)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.fakeserver import FakeServer  # noqa: E402


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A fresh server per test: ``.base_url`` (http://127.0.0.1:PORT/v1), ``.enqueue(...)``, ``.requests``."""
    server = FakeServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def lime_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated config home, with every provider key variable cleared."""
    home = tmp_path / "lime-home"
    monkeypatch.setenv("LIME_CONFIG_HOME", str(home))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GROQ_API_KEY", "OPENROUTER_API_KEY", "TOGETHER_API_KEY",
                "MISTRAL_API_KEY", "DEEPINFRA_API_KEY", "CEREBRAS_API_KEY", "XAI_API_KEY", "PERPLEXITY_API_KEY",
                "COHERE_API_KEY", "NVIDIA_API_KEY", "LIME_MODEL", "LIME_MODELS_FILE", "LIME_MAX_RETRIES"):
        monkeypatch.delenv(var, raising=False)
    return home
