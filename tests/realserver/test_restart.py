"""A conversation outlives its local server: the next turn starts it again and carries on."""

from __future__ import annotations

from pathlib import Path

from lime.catalog.routing import resolve_route
from lime.local import manager
from lime.local.connect import LocalEndpoint, activate
from lime.runtime.agent import Agent, QuietUI, Settings
from lime.runtime.permissions import Policy
from lime.runtime.session import Session
from lime.runtime.tools import Workspace


class Notices(QuietUI):
    def __init__(self) -> None:
        self.notices: list[str] = []

    def notice(self, text: str) -> None:
        self.notices.append(text)


def test_next_turn_restarts_a_stopped_server(fresh_home: Path, tmp_path: Path) -> None:
    route = activate(resolve_route("smollm2"))
    first_pid = manager.ensure_server().pid
    ui = Notices()
    session = Session.new(route.slug, directory=tmp_path / "sessions")
    hooks = LocalEndpoint(ui.notice)
    agent = Agent(route, session, policy=Policy.from_args(None, False, []), workspace=Workspace.create(cwd=tmp_path),
                  settings=Settings(max_tokens=8, tools_enabled=False), ui=ui,
                  prepare=hooks.prepare, recover=hooks.recover)
    try:
        assert agent.run("Say hi").text.strip()
        manager.stop()
        second = agent.run("Say hi again")
    finally:
        agent.close()
    assert second.text.strip()
    assert any("started it again" in n for n in ui.notices), ui.notices
    info = manager.status()
    assert info is not None and info.info.pid != first_pid
    assert [m["role"] for m in Session.load(session.path).messages] == ["user", "assistant", "user", "assistant"]
