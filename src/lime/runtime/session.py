"""Saved sessions: one append-only JSONL file per conversation.

Line 1 is a header (``{"type": "session", "id", "model", "created", "cwd"}``); every later line is
one event: a message, a model or settings change, a ``/clear``, or a compaction. Replaying the
events rebuilds exactly the history the model last saw, so a resumed session continues where it
stopped. Each event costs one ``write`` on a file opened in append mode: the cost of a turn does
not grow with the length of the session, and a crash can at worst leave one truncated last line,
which loading skips with a warning.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime import config
from lime.errors import LimeError

Message = dict[str, Any]
FORMAT_VERSION = 1
SUFFIX = ".jsonl"
INTERRUPTED_TOOL_RESULT = "(no result: the session stopped before this tool call finished)"


class SessionError(LimeError):
    """A session file or reference the user gave cannot be used."""


def new_id() -> str:
    # Time-ordered prefix (sortable, and a date is a useful prefix to type) + randomness.
    import secrets

    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass
class Totals:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    estimated: bool = False

    def add(self, usage: dict[str, Any] | None) -> None:
        if not usage:
            return
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        self.requests += 1
        self.estimated = self.estimated or bool(usage.get("estimated"))


@dataclass
class Session:
    id: str
    path: Path
    model: str
    created: str
    cwd: str = ""
    messages: list[Message] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    totals: Totals = field(default_factory=Totals)
    warnings: list[str] = field(default_factory=list)
    compactions: int = 0
    _fd: int | None = field(default=None, repr=False)
    _started: bool = field(default=False, repr=False)
    _needs_newline: bool = field(default=False, repr=False)
    _pending: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # Answer text streamed but not yet saved, and (on load) text of an answer that never finished.
    _partial: list[str] = field(default_factory=list, repr=False)
    _partial_flushed: float = field(default=0.0, repr=False)

    # -- creation and loading -------------------------------------------------------------

    @classmethod
    def new(cls, model: str, *, directory: Path | None = None, system: str | None = None) -> Session:
        """A session whose file is created with its first event (an unused REPL leaves nothing)."""
        directory = directory or config.sessions_dir()
        sid = new_id()
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        s = cls(id=sid, path=directory / f"{sid}{SUFFIX}", model=model, created=created, cwd=os.getcwd())
        if system:
            s.messages.append({"role": "system", "content": system})
            s._pending.append({"type": "message", "message": s.messages[0]})
        return s

    @classmethod
    def load(cls, path: Path) -> Session:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SessionError(f"no session file {path}") from None
        except OSError as exc:
            raise SessionError(f"cannot read session {path}: {exc.strerror or exc}") from None
        lines = data.split(b"\n")
        ends_clean = data.endswith(b"\n") or not data
        if lines and lines[-1] == b"":
            lines.pop()
        header: dict[str, Any] | None = None
        session: Session | None = None
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError):
                last = number == len(lines)
                what = "a truncated last line" if last else f"a malformed line {number}"
                if session is None and not last:
                    raise SessionError(f"{path} is not a lime session (line {number} is not JSON)") from None
                if session is not None:
                    session.warnings.append(f"session {path.name}: skipped {what}")
                continue
            if header is None:
                if event.get("type") != "session" or not isinstance(event.get("id"), str):
                    raise SessionError(f"{path} is not a lime session (no header line)")
                header = event
                session = cls(id=event["id"], path=path, model=str(event.get("model") or ""),
                              created=str(event.get("created") or ""), cwd=str(event.get("cwd") or ""))
                session._started = True
                continue
            assert session is not None
            session._apply(event)
        if session is None:
            raise SessionError(f"{path} is empty or not a lime session")
        session._needs_newline = not ends_clean
        if session._partial:
            # The process died mid-answer: keep what had streamed, marked as interrupted.
            msg = {"role": "assistant", "content": "".join(session._partial)}
            session._partial = []
            session.messages.append(msg)
            session._pending.append({"type": "message", "message": msg, "interrupted": True})
            session.warnings.append(f"session {path.name}: the last answer was cut off; keeping its partial text")
        session._close_dangling_tool_calls()
        return session

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "partial" and isinstance(event.get("text"), str):
            self._partial.append(event["text"])
            return
        self._partial = []
        if kind == "message" and isinstance(event.get("message"), dict):
            self.messages.append(event["message"])
            self.totals.add(event.get("usage"))
        elif kind == "model" and isinstance(event.get("model"), str):
            self.model = event["model"]
        elif kind == "settings" and isinstance(event.get("settings"), dict):
            self.settings.update(event["settings"])
        elif kind == "clear":
            self.messages = [m for m in self.messages if m.get("role") == "system"][:1]
        elif kind == "compaction" and isinstance(event.get("summary_message"), dict):
            keep = int(event.get("keep_last") or 0)
            self.messages = self._compacted(event["summary_message"], keep)
            self.compactions += 1
        elif kind == "usage":
            self.totals.add(event.get("usage"))

    def _compacted(self, summary: Message, keep_last: int) -> list[Message]:
        head = [m for m in self.messages[:1] if m.get("role") == "system"]
        body = self.messages[len(head):]
        kept = body[len(body) - keep_last:] if keep_last > 0 else []
        return [*head, summary, *kept]

    def _close_dangling_tool_calls(self) -> None:
        """A crash between a tool call and its result would make every later request invalid."""
        if not self.messages:
            return
        answered: set[str] = set()
        tail: list[Message] = []
        for msg in reversed(self.messages):
            if msg.get("role") == "tool":
                answered.add(str(msg.get("tool_call_id")))
                tail.append(msg)
                continue
            if msg.get("role") == "assistant" and msg.get("tool_calls"):
                for call in msg["tool_calls"]:
                    cid = str(call.get("id"))
                    if cid not in answered:
                        fix = {"role": "tool", "tool_call_id": cid, "content": INTERRUPTED_TOOL_RESULT}
                        self.messages.append(fix)
                        self._pending.append({"type": "message", "message": fix})
            break

    # -- writing -------------------------------------------------------------------------

    def _open(self) -> int:
        if self._fd is None:
            directory = self.path.parent
            try:
                if directory.is_relative_to(config.config_home()):
                    config.ensure_home()
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            except OSError as exc:
                raise SessionError(f"cannot write session {self.path}: {exc.strerror or exc}") from None
            try:
                # Two processes appending to one conversation would interleave two histories.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise SessionError(f"session {self.id} is in use by another lime process; wait for it to "
                                   "finish, or start a new session") from None
            self._fd = fd
            if self._needs_newline:
                os.write(self._fd, b"\n")
                self._needs_newline = False
        return self._fd

    def _write(self, event: dict[str, Any]) -> None:
        events = []
        if not self._started:
            events.append({"type": "session", "version": FORMAT_VERSION, "id": self.id, "model": self.model,
                           "created": self.created, "cwd": self.cwd})
            self._started = True
        events.extend(self._pending)
        self._pending.clear()
        events.append(event)
        payload = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in events)
        fd = self._open()
        data = payload.encode("utf-8")
        try:
            while data:
                written = os.write(fd, data)
                data = data[written:]
        except OSError as exc:
            raise SessionError(f"cannot write session {self.path}: {exc.strerror or exc}") from None

    def stream_text(self, delta: str, *, interval: float = 1.0) -> None:
        """Note streamed answer text; saved about once a second so a killed process loses at most that."""
        self._partial.append(delta)
        now = time.monotonic()
        if not self._partial_flushed:
            self._partial_flushed = now
        elif now - self._partial_flushed >= interval:
            self._write({"type": "partial", "text": "".join(self._partial)})
            self._partial = []
            self._partial_flushed = now

    def append(self, message: Message, *, usage: dict[str, Any] | None = None, **meta: Any) -> None:
        self._partial = []
        self._partial_flushed = 0.0
        self.messages.append(message)
        self.totals.add(usage)
        event: dict[str, Any] = {"type": "message", "message": message}
        if usage:
            event["usage"] = usage
        event.update(meta)
        self._write(event)

    def record_usage(self, usage: dict[str, Any]) -> None:
        """Usage of a request whose output is not kept in history (e.g. a compaction summary)."""
        self.totals.add(usage)
        self._write({"type": "usage", "usage": usage})

    def set_model(self, slug: str) -> None:
        self.model = slug
        if self._started or self.messages:
            self._write({"type": "model", "model": slug})

    def set_settings(self, **settings: Any) -> None:
        self.settings.update(settings)
        self._write({"type": "settings", "settings": settings})

    def clear(self) -> None:
        self.messages = [m for m in self.messages if m.get("role") == "system"][:1]
        self._write({"type": "clear"})

    def compact(self, summary_message: Message, keep_last: int, **meta: Any) -> None:
        self.messages = self._compacted(summary_message, keep_last)
        self.compactions += 1
        self._write({"type": "compaction", "summary_message": summary_message, "keep_last": keep_last, **meta})

    def claim(self) -> None:
        """Take the session's lock now (a resumed session), not at its first write."""
        self._open()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def saved(self) -> bool:
        return self.path.exists()


# -- finding sessions -------------------------------------------------------------------------


def _session_files(directory: Path) -> Iterator[Path]:
    try:
        yield from (p for p in directory.iterdir() if p.suffix == SUFFIX and p.is_file())
    except FileNotFoundError:
        return


def latest(directory: Path | None = None) -> Path | None:
    directory = directory or config.sessions_dir()
    best: tuple[int, str] | None = None
    path: Path | None = None
    for p in _session_files(directory):
        key = (p.stat().st_mtime_ns, p.name)
        if best is None or key > best:
            best, path = key, p
    return path


def find(ref: str, directory: Path | None = None) -> Path:
    """A session by ``latest``, a path, an id, or a unique id prefix."""
    directory = directory or config.sessions_dir()
    if ref == "latest":
        path = latest(directory)
        if path is None:
            raise SessionError(f"no saved sessions in {directory}")
        return path
    candidate = Path(ref).expanduser()
    if ("/" in ref or ref.endswith(SUFFIX)) and candidate.is_file():
        return candidate
    exact = directory / f"{ref}{SUFFIX}"
    if exact.is_file():
        return exact
    matches = sorted(p for p in _session_files(directory) if p.stem.startswith(ref))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SessionError(f"no session matches {ref!r} in {directory}", hint="use an id, a path or 'latest'")
    shown = ", ".join(p.stem for p in matches[:5])
    raise SessionError(f"{ref!r} matches {len(matches)} sessions ({shown}{', ...' if len(matches) > 5 else ''})")


def latest_summary(directory: Path | None = None) -> dict[str, Any] | None:
    """What ``lime status`` shows about the current (latest) session; cheap: stdlib only, no HTTP."""
    path = latest(directory)
    if path is None:
        return None
    try:
        s = Session.load(path)
    except SessionError:
        return None
    return {"id": s.id, "path": str(s.path), "model": s.model, "messages": len(s.messages),
            "compactions": s.compactions, "prompt_tokens": s.totals.prompt_tokens,
            "completion_tokens": s.totals.completion_tokens, "requests": s.totals.requests,
            "estimated": s.totals.estimated}
