"""`lime agents` (and ``/agents`` in the REPL): the sub-agents the ``agent`` tool can start here —
the built-ins, the user's (``$LIME_CONFIG_HOME/agents/``) and, in a trusted folder, the project's
(``.lime/agents/``). Files that cannot be used are named on stderr with the reason."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lime.textsafe import sanitize

if TYPE_CHECKING:
    from lime.runtime.agent_defs import AgentDef, Catalog


def register(sub: Any) -> None:
    p = sub.add_parser("agents", help="list the sub-agents the agent tool can start here")
    p.add_argument("-v", "--verbose", action="store_true", help="also show each agent's tools, model and limits")
    p.set_defaults(handler=run_agents)


def _say(text: str) -> None:
    print(f"lime: {sanitize(text)}", file=sys.stderr)


def details(agent: AgentDef) -> str:
    parts = [f"model {agent.model or 'inherit'}"]
    if agent.tools is not None:
        parts.append("tools " + ", ".join(agent.tools))
    if agent.disallowed_tools:
        parts.append("not " + ", ".join(agent.disallowed_tools))
    if agent.permission_mode:
        parts.append(f"mode {agent.permission_mode} (at most the parent's)")
    if agent.max_turns:
        parts.append(f"max {agent.max_turns} turns")
    return "; ".join(parts)


def lines(catalog: Catalog, *, verbose: bool = False) -> list[str]:
    """One row per agent (sanitised: a project file's description is the repository's text)."""
    width = max(len(n) for n in catalog.names)
    out: list[str] = []
    for agent in catalog.agents.values():
        out.append(sanitize(f"{agent.name:<{width}}  {agent.source:<8}  {agent.description}"))
        if verbose:
            where = f"; {agent.path}" if agent.path else ""
            out.append(sanitize(f"{'':<{width}}  {'':<8}  {details(agent)}{where}"))
    return out


def load_here(trust_flag: bool, say: Callable[[str], None]) -> Catalog:
    """The catalog for the working directory: project agents only when the folder is trusted."""
    from lime.cli.trust import decide_trust
    from lime.runtime import agent_defs
    from lime.runtime import project as projects

    here = projects.discover()
    trusted = decide_trust(here, trust_flag, say, ask=False)
    return agent_defs.load(here.lime_dir if trusted else None)


def run_agents(args: argparse.Namespace) -> int:
    catalog = load_here(bool(getattr(args, "trust", False)), _say)
    for problem in catalog.problems:
        _say(problem)
    sys.stdout.write("".join(line + "\n" for line in lines(catalog, verbose=bool(args.verbose))))
    return 0
