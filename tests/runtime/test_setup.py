"""The session factory and the agent's endpoint hooks, as the CLI and the Python API use them:
settings a model refuses, switching models, and an endpoint that moves after a connection error."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from lime.auth import store
from lime.catalog.entries import ModelEntry
from lime.catalog.routing import Route
from lime.catalog.store import add_user_entry
from lime.errors import UsageError
from lime.runtime.agent import QuietUI
from lime.runtime.permissions import Policy
from lime.runtime.setup import Request, open_session, set_level, switch_model
from lime.runtime.workspace import Workspace
from support.fakeserver import FakeServer, reply

KEY = "sk-setup-test-0000000000"


class Notes(QuietUI):
    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, text: str) -> None:
        self.notices.append(text)


@pytest.fixture
def models(lime_home: Path, fake_server: FakeServer) -> FakeServer:
    store.put(store.bucket_name("svc"), KEY, fake_server.base_url)
    add_user_entry(ModelEntry(slug="thinker", provider="openai-compat", service="svc", context_window=8192,
                              param_preset="reasoning-and-verbosity"))
    add_user_entry(ModelEntry(slug="plain", provider="openai-compat", service="svc", context_window=8192))
    return fake_server


def _open(tmp_path: Path, req: Request, endpoint: object = None, ui: QuietUI | None = None):  # type: ignore[no-untyped-def]
    said: list[str] = []
    ready = open_session(req, policy=Policy.from_args(None, False, []), workspace=Workspace.create(cwd=tmp_path),
                         ui=ui or QuietUI(), endpoint=endpoint, say=said.append)  # type: ignore[arg-type]
    return ready, said


def test_levels_are_checked_kept_and_dropped_with_the_model(models: FakeServer, tmp_path: Path) -> None:
    ready, _ = _open(tmp_path, Request(model="thinker", reasoning="high"))
    agent = ready.agent
    assert agent.settings.reasoning == "high"
    assert set_level(agent, "verbosity", "LOW") == "low" and agent.settings.verbosity == "low"
    assert switch_model(agent, "plain", None) == ["reasoning", "verbosity"]
    assert (agent.route.slug, agent.session.model) == ("plain", "plain")
    assert agent.settings.reasoning is None and agent.settings.verbosity is None
    with pytest.raises(UsageError, match="does not take a reasoning level"):
        set_level(agent, "reasoning", "high")
    agent.session.close()
    # Resumed on a model that takes none, the stored levels are dropped; given as a flag, refused.
    stored = _open(tmp_path, Request(model="thinker", reasoning="medium"))[0]
    stored.session.close()
    resumed, _ = _open(tmp_path, Request(model="plain", resume="latest"))
    assert resumed.resumed and resumed.agent.settings.reasoning is None
    resumed.session.close()
    with pytest.raises(UsageError, match="does not take a reasoning level"):
        _open(tmp_path, Request(model="plain", reasoning="high"))


class MovingEndpoint:
    """An endpoint whose server moved: the route starts on a dead port; recover points it at the live one."""

    setup_hint = "(none)"

    def __init__(self, live_url: str) -> None:
        self.live_url = live_url
        self.prepared = 0
        self.recovered: list[str] = []

    def available(self) -> bool:
        return False

    def prepare(self, route: Route) -> Route:
        self.prepared += 1
        return route

    def recover(self, error: Exception, route: Route) -> Route | None:
        self.recovered.append(getattr(error, "kind", ""))
        return route.with_endpoint(self.live_url, KEY, route.capabilities, route.entry)


def test_the_agent_reaches_its_endpoint_only_through_the_hooks(
        models: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIME_MAX_RETRIES", "0")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    store.put(store.bucket_name("svc"), KEY, dead)
    endpoint = MovingEndpoint(models.base_url)
    models.enqueue(reply("from the live server"), reply("again"))
    ready, _ = _open(tmp_path, Request(model="plain"), endpoint)
    try:
        assert ready.route.base_url == dead
        assert ready.agent.run("hi").text == "from the live server"
        assert endpoint.recovered == ["connection"] and ready.route.base_url == models.base_url
        assert ready.agent.run("more").text == "again"
    finally:
        ready.agent.close()
        ready.session.close()
    assert endpoint.prepared == 3  # once when the session opened, then before each request
    assert endpoint.recovered == ["connection"]


def test_without_a_recover_hook_a_connection_error_is_the_users(
        models: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lime.providers.openai_compat.errors import ProviderError

    monkeypatch.setenv("LIME_MAX_RETRIES", "0")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        store.put(store.bucket_name("svc"), KEY, f"http://127.0.0.1:{s.getsockname()[1]}/v1")
    ready, _ = _open(tmp_path, Request(model="plain"))
    try:
        with pytest.raises(ProviderError) as info:
            ready.agent.run("hi")
        assert info.value.kind == "connection"
    finally:
        ready.agent.close()
        ready.session.close()
