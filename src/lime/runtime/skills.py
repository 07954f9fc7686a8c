"""Skills: instructions the model loads when they apply.

A skill is a directory holding ``SKILL.md`` (and any companion files): ``~/.lime/skills/NAME/``
and, in a trusted folder, the project's ``.lime/skills/NAME/`` (which wins). Frontmatter:
``name``, ``description``, ``when_to_use``, ``allowed-tools``, ``argument-hint``, ``arguments``,
``paths`` (globs: the first tool call on a matching file is told the skill applies).

Only each skill's name and description go into the system prompt; the body is read when the
model calls the ``skill`` tool (or the user runs ``/NAME``). In the body ``${LIME_SKILL_DIR}`` is
the skill's directory, ``$ARGUMENTS`` the arguments and ``$NAME`` each declared argument; each
``!`cmd``` is replaced by the command's output, run as the model's ``bash`` call would be
(hooks, rules, approval, sandbox), after the skill's ``allowed-tools`` are granted.
``allowed-tools`` are permission rules added as allow rules for the rest of the turn that loaded
the skill, and removed when it ends; deny rules are checked first, so they never get past one,
and they do not count for protected paths (only user settings can allow those).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.runtime.registry import Tool, ToolContext, ToolResult
from lime.runtime.workspace import ToolFailure

if TYPE_CHECKING:
    from lime.runtime import events as ev
    from lime.runtime.permissions import Policy, Rule

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
BANG = re.compile(r"!`([^`\n]{1,2000})`")
MAX_BYTES = 200_000
DESCRIPTION_CHARS = 300  # of each description in the system prompt


@dataclass
class Skill:
    name: str
    description: str
    body: str
    directory: Path
    scope: str
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def allowed_tools(self) -> list[str]:
        from lime.runtime.frontmatter import items

        return items(self.meta.get("allowed-tools", ""))

    @property
    def paths(self) -> list[str]:
        from lime.runtime.frontmatter import items

        return items(self.meta.get("paths", ""))

    @property
    def arguments(self) -> list[str]:
        from lime.runtime.frontmatter import items

        return items(self.meta.get("arguments", ""))

    def summary(self) -> str:
        """The one line the system prompt carries."""
        text = " ".join(f"{self.description} {self.meta.get('when_to_use', '')}".split())
        return f"{self.name}: {text[:DESCRIPTION_CHARS]}"

    def expand(self, args: str = "") -> str:
        try:
            words = shlex.split(args)
        except ValueError:
            words = args.split()
        body = self.body.replace("${LIME_SKILL_DIR}", str(self.directory)).replace("$ARGUMENTS", args)
        for i, name in enumerate(self.arguments):
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                body = re.sub(rf"\${re.escape(name)}\b", (words[i] if i < len(words) else "").replace("\\", r"\\"), body)
        return body.strip()


def discover(folders: list[tuple[str, Path]]) -> dict[str, Skill]:
    """The skills in ``folders`` ((scope, folder), lowest precedence first), by name."""
    from lime.runtime.frontmatter import parse

    found: dict[str, Skill] = {}
    for scope, folder in folders:
        if folder.is_symlink() or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*/SKILL.md")):
            try:
                if path.is_symlink() or path.parent.is_symlink() or path.stat().st_size > MAX_BYTES:
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            meta, body = parse(text)
            name = (meta.get("name") or path.parent.name).lower()
            if not NAME_RE.fullmatch(name):
                continue
            found[name] = Skill(name, meta.get("description", "").strip(), body, path.parent, scope, meta)
    return found


def prompt_block(skills: dict[str, Skill]) -> str:
    """The system prompt's skills section: names and descriptions only."""
    if not skills:
        return ""
    lines = "\n".join(f"- {s.summary()}" for s in sorted(skills.values(), key=lambda s: s.name))
    return ("Skills: instructions you can load with the skill tool when a task matches one "
            f"(only their names and descriptions are here):\n{lines}")


class Grants:
    """The allow rules skills granted in the current turn, removed when it ends."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.rules: list[Rule] = []

    def grant(self, rules: list[Rule]) -> None:
        self.policy.allow.extend(rules)
        self.rules += rules

    def revoke(self) -> None:
        for rule in self.rules:
            if rule in self.policy.allow:
                self.policy.allow.remove(rule)
        self.rules.clear()

    def handle(self, event: ev.Event) -> None:
        from lime.runtime import events as ev

        if self.rules and isinstance(event, (ev.TurnEnded, ev.TurnCancelled, ev.PromptSubmitted)):
            self.revoke()


class PathHints:
    """``paths`` globs: the first time a tool call names a file one matches, its result says which
    skill applies (an ``after_tool`` hook)."""

    def __init__(self, skills: dict[str, Skill]) -> None:
        self.skills = [s for s in skills.values() if s.paths]
        self.told: set[str] = set()

    def __call__(self, call: Any, tool: Tool, args: dict[str, Any], result: ToolResult) -> ToolResult | None:
        from lime.runtime.permissions import path_matches

        path = args.get("path")
        if not isinstance(path, str) or not path:
            return None
        rel = path.removeprefix("./")
        hits = [s for s in self.skills if s.name not in self.told and any(path_matches(g, rel) for g in s.paths)]
        if not hits:
            return None
        self.told.update(s.name for s in hits)
        from dataclasses import replace

        notes = "\n".join(f"[the skill {s.name} applies to {path}: {s.description[:200]}; load it with the skill tool]"
                          for s in hits)
        return replace(result, content=f"{result.content}\n\n{notes}")


class SkillTool(Tool):
    name = "skill"
    kind = "read"
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": {"name": {"type": "string", "description": "the skill's name"},
                       "arguments": {"type": "string", "description": "arguments for the skill, if it takes any"}},
        "required": ["name"],
        "additionalProperties": False,
    }

    def __init__(self, skills: dict[str, Skill]) -> None:
        self.skills = skills
        self.description = ("Load a skill's instructions (the skills are listed in the system prompt). "
                            "Available: " + ", ".join(sorted(skills)))
        self._grants: Grants | None = None

    @property
    def concurrent(self) -> bool:
        return False  # loading one may grant rules for the calls after it

    def run(self, args: dict[str, Any], context: ToolContext) -> ToolResult:
        name = str(args.get("name", "")).strip().lower().removeprefix("/")
        skill = self.skills.get(name)
        if skill is None:
            raise ToolFailure(f"no skill {name[:64]!r}; available: {', '.join(sorted(self.skills))}")
        granted = self._grant(skill, context)
        body = self._run_commands(skill, skill.expand(str(args.get("arguments") or "")), context)
        text = f"Skill {skill.name} ({skill.directory}):\n\n{body}"
        if granted:
            text += ("\n\nFor the rest of this turn these calls run without asking (deny rules still apply): "
                     + ", ".join(granted))
        return ToolResult(text)

    def _run_commands(self, skill: Skill, body: str, context: ToolContext) -> str:
        """Each ``!`cmd``` replaced by its output, run as a ``bash`` call of the model's would be
        (hooks, permission rules, the user's approval, the sandbox)."""
        agent = context.agent
        if "!`" not in body:
            return body
        import json

        from lime.providers.openai_compat.types import ToolCall

        def one(m: re.Match[str]) -> str:
            command = m.group(1)
            bash = agent.registry.get("bash") if agent is not None else None
            if bash is None:
                return f"[`{command}` not run: no shell in this session]"
            args = {"command": command}
            result = agent.executor.run_one(ToolCall(f"{context.call_id}-cmd", bash.name, json.dumps(args)), bash, args)
            context.notice(f"skill {skill.name} ran `{command[:80]}`: {result.status}")
            return result.content.strip() if result.ok else f"[`{command}` not run: {result.content.strip()[:300]}]"

        return BANG.sub(one, body)

    def _grant(self, skill: Skill, context: ToolContext) -> list[str]:
        from lime.errors import ConfigError
        from lime.runtime.permissions import parse_rule

        agent = context.agent
        wanted = skill.allowed_tools
        if agent is None or not wanted:
            return []
        if self._grants is None:
            self._grants = Grants(agent.policy)
            agent.events.subscribe(self._grants.handle)
        rules = []
        for text in wanted:
            try:
                rules.append(parse_rule(text, "skill", f"skill {skill.name}"))
            except ConfigError as exc:
                context.notice(f"skill {skill.name}: {exc}")
        self._grants.grant(rules)
        return [r.text for r in rules]
