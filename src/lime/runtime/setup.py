"""The one way a conversation starts: (model choice, options, workspace, permission policy) -> a
ready ``Agent``. The CLI's one-shot and REPL and the Python API all come through here, so a model
is chosen, its endpoint prepared and its key checked the same way everywhere.

Endpoints that lime runs itself are reached only through an ``Endpoint`` the caller passes in
(``lime.local.connect.LocalEndpoint``): the runtime never imports ``lime.local``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lime.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from lime.catalog.routing import Route
    from lime.providers.openai_compat.types import ToolSpec
    from lime.runtime.agent import UI, Agent
    from lime.runtime.agent_defs import Catalog as AgentCatalog
    from lime.runtime.hooks import Hooks
    from lime.runtime.permissions import Policy
    from lime.runtime.plan import Plan
    from lime.runtime.prompt import Inputs
    from lime.runtime.registry import Tool, ToolRegistry
    from lime.runtime.session import Session
    from lime.runtime.skills import Skill
    from lime.runtime.tools import Workspace

VERBOSITY_LEVELS = ("low", "medium", "high")


class Endpoint(Protocol):
    """What the runtime needs from whoever runs endpoints itself (lime's local server)."""

    #: How to get a model running when nothing is configured (shown with the missing-key error).
    setup_hint: str

    def available(self) -> bool:
        """True when a model can run here without any key (the offline default)."""

    def prepare(self, route: Route) -> Route:
        """Before each request: the route with a live endpoint (the same object when nothing changed)."""

    def recover(self, error: Exception, route: Route) -> Route | None:
        """After a connection error: a route to retry on, or None."""


@dataclass
class Request:
    """What the user asked for: flags on the command line, arguments in the Python API."""

    model: str | None = None
    resume: str | None = None  # session reference ("latest", an id or a path); None: a new session
    system: str | None = None  # the system prompt of a new session (with ``prompt``: its last layer)
    prompt: Inputs | None = None  # the layers lime's own system prompt is assembled from (the CLI's)
    sessions: Path | None = None  # where sessions are created and looked up (None: the user's store)
    reasoning: str | None = None
    verbosity: str | None = None
    max_tokens: int | None = None
    service_tier: str | None = None  # OpenAI's processing tier, sent as ``service_tier``
    max_turns: int = 25
    # From the settings files: the model (slug, file) after LIME_MODEL, and reasoning / verbosity
    # levels used when no flag and no resumed session sets them (dropped if the model does not take them).
    configured_model: tuple[str, str] | None = None
    levels: dict[str, str] = field(default_factory=dict)
    tools: bool = True
    verbose: bool = False
    agents: AgentCatalog | None = None  # the sub-agents the agent tool may start (None: no agent tool)
    hooks: Hooks | None = None  # the settings' hooks, attached before the session starts
    skills: dict[str, Skill] = field(default_factory=dict)  # offered through the ``skill`` tool


@dataclass
class Ready:
    agent: Agent
    resumed: bool
    # The CLI's custom slash commands by name (``lime.cli.custom_commands``).
    commands: dict[str, Any] = field(default_factory=dict)

    @property
    def route(self) -> Route:
        return self.agent.route

    @property
    def session(self) -> Session:
        return self.agent.session


def choose_model(flag: str | None, endpoint: Endpoint | None,
                 configured: tuple[str, str] | None = None) -> tuple[str, str]:
    """(slug, why): --model, LIME_MODEL, the settings' model, the configured default, the offline
    model, gpt-5.4."""
    from lime.catalog.routing import select_model

    choice = select_model(flag, offline=endpoint.available if endpoint is not None else None, configured=configured)
    return choice.slug, choice.reason


def ready_route(slug: str, endpoint: Endpoint | None) -> Route:
    """The catalog's route for ``slug`` with its endpoint running and its key present."""
    from lime.catalog.routing import resolve_route

    return _ready(resolve_route(slug), endpoint)


def _ready(route: Route, endpoint: Endpoint | None) -> Route:
    if endpoint is not None:
        route = endpoint.prepare(route)
    route.require_key()
    return route


def build_registry(plan: Plan | None = None, tools: Iterable[Tool] = (), *, agents: AgentCatalog | None = None,
                   endpoint: Endpoint | None = None, prompt: Inputs | None = None,
                   skills: dict[str, Skill] | None = None) -> ToolRegistry:
    """The session's tools: the built-ins, ``exit_plan_mode`` (with a plan file), the ``agent`` tool
    (with a catalog of sub-agents; ``prompt``: what their system prompts share with the session's),
    ``skill`` (when there are skills), then ``tools`` (what adapters hand in: MCP tools), whose names
    are checked."""
    from lime.runtime.plan import ExitPlanMode
    from lime.runtime.registry import ToolRegistry
    from lime.runtime.tools import ALIASES, TOOLS

    registry = ToolRegistry(TOOLS.values(), ALIASES)
    if plan is not None:
        registry.add(ExitPlanMode(plan), builtin=True)
    if agents is not None:
        from lime.runtime.subagents import AgentTool

        registry.add(AgentTool(agents, lambda slug: ready_route(slug, endpoint), prompt), builtin=True)
    if skills:
        from lime.runtime.skills import SkillTool

        registry.add(SkillTool(skills), builtin=True)
    for tool in tools:
        registry.add(tool)
    return registry


def open_session(req: Request, *, policy: Policy, workspace: Workspace, ui: UI,
                 endpoint: Endpoint | None, say: Callable[[str], None], tools: Iterable[Tool] = ()) -> Ready:
    """A new or resumed session with its agent, ready to run. ``say`` reports set-up notes;
    ``tools``: tools beside the built-ins (see ``build_registry``)."""
    from lime.runtime import session as sessions
    from lime.runtime.agent import Agent, Settings

    resumed = req.resume is not None
    reason = ""
    if resumed:
        assert req.resume is not None
        session = sessions.Session.load(sessions.find(req.resume, req.sessions))
        session.claim()
        for w in session.warnings:
            say(f"warning: {w}")
        slug = req.model or session.model or choose_model(None, endpoint)[0]
    else:
        slug, reason = choose_model(req.model, endpoint, req.configured_model)
        if reason == "offline default":
            say(f"no model chosen and no API key configured: using the local model {slug} (offline)")
        session = sessions.Session.new(slug, directory=req.sessions, system=None if req.prompt else req.system)
    from lime.catalog.routing import resolve_route

    try:
        route = resolve_route(slug)
    except ConfigError as exc:
        if not reason.startswith("model in "):
            raise
        raise ConfigError(f"{exc.message}, set by {reason}", hint=exc.hint) from None
    route = with_service_tier(route, req.service_tier)
    try:
        route = _ready(route, endpoint)
    except ConfigError:
        if reason != "built-in default" or endpoint is None or route.credential.source != "missing":
            raise
        # Nothing configured at all: name both ways forward, not only the default model's key.
        raise ConfigError(f"no model chosen and no API key configured (the default {slug} needs one); "
                          f"{endpoint.setup_hint}") from None
    if resumed and route.slug != session.model:
        session.set_model(route.slug)
    # A stored setting the (new) model does not take is dropped; a flag it does not take is an error.
    reasoning = req.reasoning if req.reasoning is not None else session.settings.get("reasoning",
                                                                                        req.levels.get("reasoning"))
    verbosity = req.verbosity if req.verbosity is not None else session.settings.get("verbosity",
                                                                                        req.levels.get("verbosity"))
    settings = Settings(
        max_tokens=req.max_tokens,
        reasoning=(check_reasoning if req.reasoning is not None else accepted(check_reasoning))(route, reasoning),
        verbosity=(check_verbosity if req.verbosity is not None else accepted(check_verbosity))(route, verbosity),
        tools_enabled=req.tools,
        max_turns=req.max_turns,
        verbose=req.verbose,
    )
    no_tools = (f"note: tools are not offered: {route.slug} on {route.service} does not declare function calling, "
                "so it cannot read or change files here (whatever it says it did)") if (
        req.tools and not route.capabilities.tools) else None
    if no_tools and req.verbose:
        _first_time("no-tools", route.slug)
        say(no_tools)
    workspace.secrets = known_secrets(route)
    from lime.runtime.plan import Plan

    plan = Plan.for_session(session.id)
    registry = build_registry(plan, tools, agents=req.agents, endpoint=endpoint, prompt=req.prompt,
                              skills=req.skills)
    agent = Agent(route, session, policy=policy, workspace=workspace, settings=settings, ui=ui,
                  registry=registry, plan=plan,
                  prepare=endpoint.prepare if endpoint is not None else None,
                  recover=endpoint.recover if endpoint is not None else None)
    if any(s.paths for s in req.skills.values()):
        from lime.runtime.skills import PathHints

        agent.executor.after_tool.append(PathHints(req.skills))
    if req.hooks is not None:
        req.hooks.attach(agent)
    if not resumed and req.prompt is not None:
        from lime.runtime.prompt import assemble

        # Nothing is sent or saved yet: the prompt lists exactly the tools the first request offers.
        built = assemble(req.prompt, tools=agent.tool_specs(), window=route.entry.context_window,
                         builtin=agent.registry.is_builtin)
        for note in built.notices:
            say(f"note: {note}")
        session.set_system(built.text)
    from lime.runtime.checkpoints import Checkpoints
    from lime.runtime.events import SessionStarted

    Checkpoints.attach(agent)  # files lime's tools write can be restored by a rewind
    if no_tools and not req.verbose:
        _after_first_answer(agent, route.slug, lambda: say(no_tools))
    agent.events.emit(SessionStarted(session.id, route.slug, resumed))
    return Ready(agent, resumed)


def _after_first_answer(agent: Agent, slug: str, tell: Callable[[], None]) -> None:
    """``tell`` once the model has answered (beside its answer, not before an error), the first
    time for this model in this config home."""
    from lime.runtime.events import Event, TurnEnded

    def on(event: Event) -> None:
        if isinstance(event, TurnEnded):
            unsubscribe()
            if _first_time("no-tools", slug):
                tell()

    unsubscribe = agent.events.subscribe(on)


def offered_tools(route: Route, policy: Policy, workspace: Workspace, enabled: bool,
                  tools: Iterable[Tool] = (), *, agents: AgentCatalog | None = None,
                  skills: dict[str, Skill] | None = None) -> tuple[list[ToolSpec] | None, ToolRegistry]:
    """The tools a new session would offer at its first request (``Agent.tool_specs``), and their
    registry, without opening one: for ``lime system-prompt``."""
    from lime.runtime.events import EventBus
    from lime.runtime.executor import Executor
    from lime.runtime.plan import Plan

    registry = build_registry(Plan.for_session("new"), tools, agents=agents, skills=skills)
    if not enabled or not route.capabilities.tools:
        return None, registry
    return [t.spec() for t in Executor(registry, policy, workspace, EventBus()).offered()], registry


def switch_model(agent: Agent, slug: str, endpoint: Endpoint | None) -> list[str]:
    """Move the conversation to another model; the names of settings it does not take are unset and returned."""
    route = ready_route(slug, endpoint)
    dropped: list[str] = []
    for name, check in LEVELS.items():
        value = getattr(agent.settings, name)
        if value and accepted(check)(route, value) is None:
            setattr(agent.settings, name, None)
            dropped.append(name)
    agent.set_route(route)
    agent.workspace.secrets = known_secrets(route)
    agent.session.set_model(route.slug)
    return dropped


def set_level(agent: Agent, name: str, value: str) -> str | None:
    """Set ``reasoning`` or ``verbosity`` for the rest of the conversation (``off``: unset); a level
    the model does not take is a UsageError."""
    level = LEVELS[name](agent.route, value)
    setattr(agent.settings, name, level)
    agent.session.set_settings(**{name: level})
    return level


# -- settings a model may refuse ----------------------------------------------------------------------

Check = Callable[["Route", "str | None"], "str | None"]


def check_reasoning(route: Route, level: str | None) -> str | None:
    if level is None or level.lower() in ("off", "default"):
        return None
    level = level.lower()
    entry = route.entry
    if not entry.allows_reasoning:
        raise UsageError(f"model {entry.slug} does not take a reasoning level (its param_preset is "
                         f"{entry.param_preset!r}); choose a model whose param preset includes reasoning")
    levels = route.capabilities.reasoning_levels
    if level not in levels:
        raise UsageError(f"reasoning level {level!r} is not accepted by {entry.slug} (choose from {', '.join(levels)})")
    return level


def check_verbosity(route: Route, level: str | None) -> str | None:
    if level is None or level.lower() in ("off", "default"):
        return None
    level = level.lower()
    if level not in VERBOSITY_LEVELS:
        raise UsageError(f"verbosity must be one of {', '.join(VERBOSITY_LEVELS)}, got {level!r}")
    if not route.entry.allows_verbosity:
        raise UsageError(f"model {route.slug} does not take a verbosity setting (its param_preset is "
                         f"{route.entry.param_preset!r})")
    return level


LEVELS: dict[str, Check] = {"reasoning": check_reasoning, "verbosity": check_verbosity}


def accepted(check: Check) -> Check:
    """``check`` for a setting carried over (stored in a session, kept across /model): one the
    model does not take becomes None instead of an error."""

    def soft(route: Route, level: str | None) -> str | None:
        try:
            return check(route, level)
        except UsageError:
            return None

    return soft


def known_secrets(route: Route) -> list[str]:
    """Every API key lime knows of: tool outputs are masked for them before the model or a session sees them."""
    from lime.auth.resolve import known_keys

    return sorted({*known_keys(), *([route.api_key] if route.api_key else [])})


def _first_time(what: str, slug: str) -> bool:
    """True the first time ``what`` is said about this model in this config home (then remembered)."""
    import hashlib

    from lime import config

    mark = config.config_home() / "told" / f"{what}-{hashlib.sha256(slug.encode()).hexdigest()[:16]}"
    if mark.exists():
        return False
    try:
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:
        pass
    return True


SERVICE_TIERS = ("auto", "default", "flex", "priority", "scale")


def with_service_tier(route: Route, tier: str | None) -> Route:
    """The route with ``service_tier`` on every request body (healing drops it where refused)."""
    if tier is None:
        return route
    if tier not in SERVICE_TIERS:
        raise UsageError(f"--service-tier must be one of {', '.join(SERVICE_TIERS)}, got {tier!r}")
    import dataclasses

    extra = {**(route.entry.extra_body or {}), "service_tier": tier}
    return dataclasses.replace(route, entry=dataclasses.replace(route.entry, extra_body=extra))
