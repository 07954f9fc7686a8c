"""Fixtures for the provider tests: an isolated config home, fast retries, and routes to the fake server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lime.auth.resolve import ResolvedCredential
from lime.catalog.entries import ModelEntry
from lime.catalog.presets import get_preset
from lime.catalog.routing import Route, capabilities_for

KEY = "sk-test-4f9c2a7d1e8b6c3a5f0e9d2c"


@pytest.fixture(autouse=True)
def provider_env(lime_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIME_RETRY_BASE_DELAY", "0.01")
    monkeypatch.delenv("LIME_RETRY_MAX_DELAY", raising=False)
    monkeypatch.delenv("LIME_CONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("LIME_READ_TIMEOUT", raising=False)
    return lime_home


MakeRoute = Callable[..., Route]


def build_route(service: str, base_url: str | None, *, key: str | None = KEY, api_id: str = "wire-model",
                **entry: Any) -> Route:
    preset = get_preset(service)
    e = ModelEntry(slug=f"{service}-test", provider="openai-compat", service=service, context_window=32768,
                   api_id=api_id, **entry)
    cred = ResolvedCredential(key, "test", f"openai_compat:{service}")
    return Route(entry=e, service=service, preset=preset, base_url=base_url, credential=cred,
                 capabilities=capabilities_for(e, preset))


@pytest.fixture
def make_route() -> MakeRoute:
    return build_route


OPEN_CLIENTS: list[Any] = []


@pytest.fixture(autouse=True)
def close_clients() -> Any:
    """Clients made through ``track`` are closed after each test (no stray sockets)."""
    yield
    while OPEN_CLIENTS:
        c = OPEN_CLIENTS.pop()
        c.close()


def track(client: Any) -> Any:
    OPEN_CLIENTS.append(client)
    return client
