"""The tool registry and the event stream, as an adapter uses them: a tool that is not built in is
handed to the session factory and gets the same permission rules, --allowedTools, plan mode and
approvals as the built-ins; a subscriber sees a turn's events in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lime.auth import store
from lime.catalog.entries import ModelEntry
from lime.catalog.store import add_user_entry
from lime.errors import ConfigError
from lime.runtime import events as ev
from lime.runtime import settings as settings_mod
from lime.runtime.agent import QuietUI
from lime.runtime.executor import Approval
from lime.runtime.permissions import Policy
from lime.runtime.registry import FunctionTool, Image, Tool, ToolContext, ToolRegistry, ToolResult
from lime.runtime.setup import Request, build_registry, open_session
from lime.runtime.workspace import Workspace
from support.fakeserver import FakeServer, reply, text_stream, tool_call_stream

KEY = "sk-registry-test-00000000000"


class Echo(Tool):
    """What an MCP adapter would hand in: a network tool that is not built in."""

    name = "mcp__demo__echo"
    description = "Echo the text back."
    parameters = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    kind = "network"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        self.calls.append(args)
        if args.get("text") == "boom":
            raise RuntimeError(f"server said {KEY}")  # a failing tool never ends the turn, never leaks a key
        return ToolResult(f"echo: {args['text']}")


class Recorder(QuietUI):
    def __init__(self, answers: list[Approval | None] | None = None) -> None:
        self.events: list[ev.Event] = []
        self.answers = answers or []
        self.asked: list[str] = []

    def handle(self, event: ev.Event) -> None:
        self.events.append(event)

    def ask(self, tool: Tool, args: dict[str, Any], why: str = "") -> Approval | None:
        self.asked.append(tool.name)
        return self.answers.pop(0) if self.answers else None


@pytest.fixture
def server(lime_home: Path, fake_server: FakeServer) -> FakeServer:
    store.put(store.bucket_name("svc"), KEY, fake_server.base_url)
    add_user_entry(ModelEntry(slug="m", provider="openai-compat", service="svc", context_window=32000,
                              supports_tools=True, supports_include_usage=True))
    return fake_server


def _run(tmp_path: Path, prompt: str, *, mode: str | None = None, allowed: list[str] | None = None,
         settings: str | None = None, ui: Recorder | None = None, tools: list[Tool] | None = None,
         model: str = "m") -> Recorder:
    ui = ui or Recorder()
    loaded = settings_mod.load(user=None, project=[], local=None, flag=settings)
    policy = Policy.from_args(mode, False, allowed or [], loaded)
    ready = open_session(Request(model=model, sessions=tmp_path / "sessions"), policy=policy,
                         workspace=Workspace.create(cwd=tmp_path), ui=ui, endpoint=None, say=lambda t: None,
                         tools=tools if tools is not None else [Echo()])
    try:
        ready.agent.run(prompt)
    finally:
        ready.agent.end()
    return ui


def _results(ui: Recorder) -> list[ToolResult]:
    return [e.result for e in ui.events if isinstance(e, ev.ToolFinished)]


def test_rules_and_approvals_apply_to_a_tool_that_is_not_built_in(server: FakeServer, tmp_path: Path) -> None:
    call = tool_call_stream([("mcp__demo__echo", {"text": "hi"})])
    # default mode: a network tool asks; nobody to ask means refused, with the way to allow it.
    server.enqueue(call, reply("done"))
    ui = _run(tmp_path, "echo")
    assert _results(ui)[0].status == "denied" and "needs approval" in _results(ui)[0].content
    # The user says yes: it runs.
    server.enqueue(call, reply("done"))
    ui = _run(tmp_path, "echo", ui=Recorder(["yes"]))
    assert ui.asked == ["mcp__demo__echo"] and _results(ui)[0].content == "echo: hi"
    # An allow rule naming it: runs unasked.
    server.enqueue(call, reply("done"))
    ui = _run(tmp_path, "echo", settings='{"permissions": {"allow": ["mcp__demo__echo"]}}')
    assert ui.asked == [] and _results(ui)[0].content == "echo: hi"
    # A deny rule wins even in bypassPermissions.
    server.enqueue(call, reply("done"))
    ui = _run(tmp_path, "echo", mode="bypassPermissions", settings='{"permissions": {"deny": ["mcp__demo__echo"]}}')
    assert _results(ui)[0].status == "denied" and "denied by the rule" in _results(ui)[0].content
    # --allowedTools without it: not offered, and refused if called anyway.
    server.enqueue(call, reply("done"))
    ui = _run(tmp_path, "echo", mode="bypassPermissions", allowed=["Read"])
    offered = [t["function"]["name"] for t in server.chat_requests[-2].json["tools"]]
    assert offered == ["read_file"] and "not enabled" in _results(ui)[0].content
    # Plan mode: not offered (it is not read-only), refused if called.
    server.enqueue(call, reply("done"))
    ui = _run(tmp_path, "echo", mode="plan")
    offered = [t["function"]["name"] for t in server.chat_requests[-2].json["tools"]]
    assert "mcp__demo__echo" not in offered and "exit_plan_mode" in offered
    assert "not allowed in plan mode" in _results(ui)[0].content


def test_a_failing_tool_is_an_error_result_with_keys_masked(server: FakeServer, tmp_path: Path) -> None:
    echo = Echo()
    server.enqueue(tool_call_stream([("mcp__demo__echo", {"text": "boom"})]), reply("ok"))
    ui = _run(tmp_path, "boom", mode="dontAsk", tools=[echo])
    (result,) = _results(ui)
    assert result.is_error and "RuntimeError" in result.content and KEY not in result.content
    assert KEY not in str(server.last.json["messages"])


def test_names_are_checked_and_reserved_for_builtins() -> None:
    class Named(Echo):
        def __init__(self, name: str, kind: str = "network") -> None:
            super().__init__()
            self.name, self.kind = name, kind  # type: ignore[assignment]

    with pytest.raises(ConfigError, match="reserved"):
        build_registry(tools=[Named("bash")])
    with pytest.raises(ConfigError, match="not valid"):
        build_registry(tools=[Named("echo me")])
    with pytest.raises(ConfigError, match="kind"):
        build_registry(tools=[Named("x", "exec")])
    with pytest.raises(ConfigError, match="two tools"):
        build_registry(tools=[Named("x"), Named("x")])
    registry = ToolRegistry([FunctionTool("t", "d", {"type": "object"}, "read", lambda ws, a: "")],
                            {"old_t": "t"})
    got = registry.get("old_t")
    assert got is not None and got.name == "t" and registry.is_builtin("old_t") and "old_t" in registry
    # A rule may name an MCP tool before its server is reached; other unknown names stay errors.
    Policy.from_args(None, False, ["mcp__demo__echo"])
    with pytest.raises(ConfigError, match="unknown tool"):
        Policy.from_args(None, False, [], settings_mod.load(user=None, project=[], local=None,
                                                           flag='{"permissions": {"deny": ["Frob"]}}'))


def test_a_subscriber_sees_a_turns_events_in_order(server: FakeServer, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    server.enqueue(tool_call_stream([("read_file", {"path": "a.txt"})]), text_stream("It says alpha.", chunks=3))
    ui = _run(tmp_path, "what is in a.txt?")
    kinds = [e.type for e in ui.events]
    # Consecutive text deltas shown once.
    compact = [k for i, k in enumerate(kinds) if not (k == "text" and i and kinds[i - 1] == "text")]
    assert compact == ["session_start", "prompt", "message", "request", "answer_end", "usage", "message", "tool_call",
                       "permission", "tool_result", "message", "request", "text", "answer_end", "usage", "message",
                       "turn_end", "session_end"], compact
    assert "".join(e.text for e in ui.events if isinstance(e, ev.TextDelta)) == "It says alpha."
    perm = next(e for e in ui.events if isinstance(e, ev.PermissionDecided))
    assert (perm.decision, perm.by, perm.call.name) == ("allow", "policy", "read_file")
    end = ui.events[-2]
    assert isinstance(end, ev.TurnEnded) and end.text == "It says alpha." and end.requests == 2
    # The session writer is one more subscriber: the file holds exactly the messages the stream announced.
    announced = [e.message for e in ui.events if isinstance(e, ev.MessageAdded)]
    assert [m["role"] for m in announced] == ["user", "assistant", "tool", "assistant"]
    (path,) = (tmp_path / "sessions").glob("*.jsonl")
    saved = [e["message"] for e in map(json.loads, path.read_text().splitlines()) if e["type"] == "message"]
    assert saved == announced


def test_the_bus_calls_subscribers_in_order_and_unsubscribes() -> None:
    bus = ev.EventBus()
    seen: list[str] = []
    bus.subscribe(lambda e: seen.append("a:" + e.type))
    off = bus.subscribe(lambda e: seen.append("b:" + e.type))
    bus.emit(ev.Notice("x"))
    off()
    bus.emit(ev.TextDelta("y"))
    assert seen == ["a:notice", "b:notice", "a:text"]


class Screenshot(Tool):
    name = "mcp__demo__shot"
    description = "Take a screenshot."
    parameters = {"type": "object", "properties": {}}
    kind = "read"

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        return ToolResult("one screenshot", images=[Image("image/png", "iVBORw0KGgo=")])


def test_images_a_tool_returns_reach_a_model_that_takes_them(server: FakeServer, tmp_path: Path) -> None:
    add_user_entry(ModelEntry(slug="eyes", provider="openai-compat", service="svc", context_window=32000,
                              supports_tools=True, supports_vision=True))
    server.enqueue(tool_call_stream([("mcp__demo__shot", {})]), reply("I see a PNG."))
    _run(tmp_path, "look", tools=[Screenshot()], model="eyes", mode="dontAsk")  # an MCP "read" still asks
    tool_msg, images = server.last.json["messages"][-2:]
    assert tool_msg["role"] == "tool" and tool_msg["content"] == "one screenshot"
    assert images["role"] == "user" and images["content"][1] == {
        "type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    # A model without vision gets a note instead.
    server.enqueue(tool_call_stream([("mcp__demo__shot", {})]), reply("No image."))
    _run(tmp_path, "look", tools=[Screenshot()], mode="dontAsk")
    last = server.last.json["messages"][-1]
    assert last["role"] == "tool" and "1 image not shown" in last["content"]
