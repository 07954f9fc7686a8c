"""File checkpoints for rewind: what a file held before lime's tools wrote it.

Before ``write_file`` or ``edit_file`` runs, the file's bytes (or its absence) are saved with the
user turn it belongs to; after the write, a hash of what lime wrote. Rewinding to turn N restores
every file lime wrote from turn N on to what it held before, but only where the file still holds
exactly what lime last wrote: a file changed by anything else since is kept and named.

Checkpoints are kept beside the session file (``<id>.checkpoints``, JSON lines, private), so a
resumed session can rewind too. Files above ``MAX_BYTES`` are not checkpointed (and said so).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lime.runtime.compaction import is_summary
from lime.runtime.tools import canonical

if TYPE_CHECKING:
    from lime.providers.openai_compat.types import ToolCall
    from lime.runtime.agent import Agent
    from lime.runtime.registry import Tool, ToolResult

WRITERS = ("write_file", "edit_file")
MAX_BYTES = 4_000_000
SUFFIX = ".checkpoints"


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:  # noqa: PTH123 (a plain open: no following of the path twice)
            return fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None


def user_turns(messages: list[dict[str, Any]]) -> list[int]:
    """Indexes of the messages the user typed (not summaries, not tool images)."""
    out = []
    for i, m in enumerate(messages):
        if m.get("role") != "user" or is_summary(m):
            continue
        content = m.get("content")
        if isinstance(content, list) and content and not any(p.get("type") == "text" for p in content
                                                             if isinstance(p, dict)):
            continue
        out.append(i)
    return out


@dataclass
class Restored:
    restored: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # changed outside lime since: left as they are


class Checkpoints:
    """The ``before_tool``/``after_tool`` pair that keeps checkpoints for the agent's current session."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self._lock = threading.Lock()
        # By call object: a sub-agent's calls come through here too, and their ids may repeat the parent's.
        self._before: dict[int, tuple[str, bytes | None, bool]] = {}

    @classmethod
    def attach(cls, agent: Agent) -> Checkpoints:
        cp = cls(agent)
        agent.executor.before_run.append(cp.before)
        agent.executor.after_tool.append(cp.after)
        return cp

    @property
    def path(self) -> Path:
        session = self.agent.session
        return session.path.with_name(session.id + SUFFIX)

    def _turn(self) -> int:
        return len(user_turns(self.agent.session.messages))

    def before(self, call: ToolCall, tool: Tool, args: dict[str, Any]) -> None:
        if canonical(tool.name) not in WRITERS or not isinstance(args.get("path"), str):
            return None
        try:
            target = self.agent.workspace.resolve(args["path"])
            data = _read(target)
        except Exception:  # the tool itself reports a bad path
            return None
        too_big = data is not None and len(data) > MAX_BYTES
        with self._lock:
            self._before[id(call)] = (str(target), None if too_big else data, too_big)
        return None


    def after(self, call: ToolCall, tool: Tool, args: dict[str, Any], result: ToolResult) -> ToolResult | None:
        with self._lock:
            saved = self._before.pop(id(call), None)
        if saved is None or result.status != "ok":
            return None
        target, data, too_big = saved
        if too_big:
            return None
        try:
            now = _read(Path(target))
        except OSError:
            return None
        record = {"turn": self._turn(), "path": target, "existed": data is not None,
                  "before": base64.b64encode(data).decode() if data is not None else None, "after": _digest(now)}
        self._append(record)
        return None

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def records(self) -> list[dict[str, Any]]:
        """The live checkpoints (those an earlier rewind consumed are gone)."""
        out: list[dict[str, Any]] = []
        try:
            raw = self.path.read_bytes()
        except OSError:
            return out
        for line in raw.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict):
                continue
            if isinstance(rec.get("rewind"), int):
                out = [r for r in out if r["turn"] < rec["rewind"]]
            elif isinstance(rec.get("turn"), int) and isinstance(rec.get("path"), str):
                out.append(rec)
        return out

    def files_since(self, turn: int) -> list[str]:
        return list(dict.fromkeys(r["path"] for r in self.records() if r["turn"] >= turn))

    def restore(self, turn: int) -> Restored:
        """Put back what each file lime wrote from ``turn`` on held before, where lime's write is
        still what the file holds."""
        done = Restored()
        first: dict[str, dict[str, Any]] = {}
        last: dict[str, dict[str, Any]] = {}
        for r in self.records():
            if r["turn"] >= turn:
                first.setdefault(r["path"], r)
                last[r["path"]] = r
        for path, r in first.items():
            p = Path(path)
            try:
                current = _read(p)
            except OSError:
                done.kept.append(path)
                continue
            if _digest(current) != last[path]["after"]:
                done.kept.append(path)
                continue
            try:
                if not r["existed"]:
                    p.unlink(missing_ok=True)
                else:
                    self.agent.workspace.write_bytes(p, base64.b64decode(r["before"] or ""), raw=path)
                done.restored.append(path)
            except Exception:
                done.kept.append(path)
        self.forget(turn)
        return done

    def forget(self, turn: int) -> None:
        self._append({"rewind": turn})
