"""Saved sessions: one append-only JSONL file per conversation.

Line 1 is a header (``{"type": "session", "id", "model", "created", "cwd"}``); every later line is
one event: a message, a model or settings change, a ``/clear``, or a compaction. Replaying the
events rebuilds exactly the history the model last saw, so a resumed session continues where it
stopped. Each event costs one ``write`` on a file opened in append mode: the cost of a turn does
not grow with the length of the session, and a crash can at worst leave one truncated last line,
which loading skips with a warning.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lime import config
from lime.errors import LimeError
from lime.runtime import events as ev
from lime.runtime.compaction import is_summary as _is_summary
from lime.runtime.events import Event, TextDelta

Message = dict[str, Any]
FORMAT_VERSION = 1
SUFFIX = ".jsonl"
INTERRUPTED_TOOL_RESULT = "(no result: the session stopped before this tool call finished)"
LOST_TOOL_RESULT = "(result lost: this tool call's result could not be read back from the session file)"
NO_ANSWER = "(no answer: {reason})"
# ``lime status`` reads the summary from the file's end: it looks back at most this far.
TAIL_LIMIT = 64 << 20
ROLES = ("system", "user", "assistant", "tool")


class SessionError(LimeError):
    """A session file or reference the user gave cannot be used."""


def new_id() -> str:
    # Time-ordered prefix (sortable, and a date is a useful prefix to type) + randomness
    # (os.urandom: ``secrets`` would load hashlib and OpenSSL for three bytes).
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + os.urandom(3).hex()


def title_from(prompt: str) -> str:
    """A short title: the prompt's first words, cut at a word boundary."""
    words = " ".join(prompt.split())
    if len(words) <= 60:
        return words
    cut = words[:60].rsplit(" ", 1)[0] or words[:60]
    return cut + "…"


@dataclass
class Totals:
    """The tokens a session has used so far, summed over its requests."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    estimated: bool = False
    # Of prompt_tokens: read from and written to the service's prompt cache (Anthropic counts both).
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0  # of cache_write_tokens, to a one-hour cache
    # Each request priced at its own model's prices when it was made (a session may switch models,
    # a sub-agent may use another); requests whose model had no known prices are counted apart.
    cost_usd: float = 0.0
    unpriced_requests: int = 0

    def add(self, usage: dict[str, Any] | None, prices: Any = None, *, priced: bool = True) -> None:
        """Count ``usage``; ``prices`` (catalog/prices.Prices, None: unknown) prices it, unless
        ``priced`` is False (a replay: the cost comes from the file's running totals)."""
        if not usage:
            return
        if priced:
            if prices is None:
                self.unpriced_requests += 1
            else:
                self.cost_usd += prices.cost_of(usage)
        self.prompt_tokens += _count(usage.get("prompt_tokens"))
        self.completion_tokens += _count(usage.get("completion_tokens"))
        self.cache_read_tokens += _count(usage.get("cache_read_tokens"))
        self.cache_write_tokens += _count(usage.get("cache_write_tokens"))
        self.cache_write_1h_tokens += _count(usage.get("cache_write_1h_tokens"))
        self.requests += 1
        self.estimated = self.estimated or bool(usage.get("estimated"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                               "requests": self.requests, "estimated": self.estimated}
        if self.cache_read_tokens or self.cache_write_tokens:
            out["cache_read_tokens"] = self.cache_read_tokens
            out["cache_write_tokens"] = self.cache_write_tokens
        if self.cache_write_1h_tokens:
            out["cache_write_1h_tokens"] = self.cache_write_1h_tokens
        if self.requests > self.unpriced_requests:
            out["cost_usd"] = round(self.cost_usd, 6)
        if self.unpriced_requests:
            out["unpriced_requests"] = self.unpriced_requests
        return out

    def restore_cost(self, stats: dict[str, Any] | None) -> None:
        """The running cost a session file's last line carries (the replay counts tokens only).
        A file without one (written before lime kept it) has its requests counted as unpriced."""
        stats = stats or {}
        cost = _usd(stats.get("cost_usd"))
        if cost is None:
            self.cost_usd, self.unpriced_requests = 0.0, self.requests
        else:
            self.cost_usd, self.unpriced_requests = cost, min(_count(stats.get("unpriced_requests")), self.requests)


def _count(value: Any) -> int:
    """A token count as stored; anything else (a string, a float, a bool) counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 53 else 0


def _usd(value: Any) -> float | None:
    """A running cost as stored; None for anything that is not a sane number of dollars."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e9:
        return float(value)
    return None


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def message_problem(msg: Any) -> str | None:
    """Why a stored message cannot go back into a request (None when it can)."""
    if not isinstance(msg, dict):
        return "the message is not an object"
    role = msg.get("role")
    if role not in ROLES:
        return "unknown role"
    content = msg.get("content")
    if content is not None and not _is_text(content) and (
            not isinstance(content, list) or not all(isinstance(p, dict) for p in content)):
        return "content is neither text nor a list of parts"
    calls = msg.get("tool_calls")
    if calls is not None:
        if role != "assistant" or not isinstance(calls, list):
            return "tool_calls is not a list"
        for call in calls:
            fn = call.get("function") if isinstance(call, dict) else None
            if not (isinstance(call, dict) and _is_text(call.get("id")) and isinstance(fn, dict)
                    and _is_text(fn.get("name")) and _is_text(fn.get("arguments"))):
                return "a tool call lacks its id, name or arguments"
    if role == "tool" and not _is_text(msg.get("tool_call_id")):
        return "a tool result without tool_call_id"
    return None


def _event_problem(event: dict[str, Any]) -> str | None:
    kind = event.get("type")
    usage = event.get("usage")
    if usage is not None and not isinstance(usage, dict):
        return "usage is not an object"
    if kind == "message":
        return message_problem(event.get("message"))
    if kind == "compaction":
        keep = event.get("keep_last", 0)
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
            return "keep_last is not a count"
        return message_problem(event.get("summary_message"))
    if kind == "history":
        messages = event.get("messages")
        if not isinstance(messages, list):
            return "history is not a list"
        return next((p for p in map(message_problem, messages) if p), None)
    if kind == "partial" and not _is_text(event.get("text")):
        return "partial text is not text"
    if kind == "model" and not _is_text(event.get("model")):
        return "model is not a name"
    if kind == "title" and not _is_text(event.get("title")):
        return "title is not text"
    if kind == "settings" and not isinstance(event.get("settings"), dict):
        return "settings is not an object"
    if kind == "sidechain" and not isinstance(event.get("event"), dict):
        return "a side chain entry without its event"
    return None


@dataclass
class Session:
    """An open session: the conversation, and the file each change to it is appended to."""

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
    # A name for pickers: set by /rename, else taken from the first prompt; the first prompt itself.
    title: str = ""
    first_prompt: str = ""
    # The current model's prices (catalog/prices.Prices), set by the agent: each request's usage
    # is priced with them as it is counted (every event carries the running cost); None: unknown.
    prices: Any = field(default=None, repr=False)
    _fd: int | None = field(default=None, repr=False)
    _started: bool = field(default=False, repr=False)
    _needs_newline: bool = field(default=False, repr=False)
    _pending: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # Answer text streamed but not yet saved, and (on load) text of an answer that never finished.
    _partial: list[str] = field(default_factory=list, repr=False)
    _partial_flushed: float = field(default=0.0, repr=False)
    # Tool calls of the last assistant message still waiting for their results (while loading).
    _open_calls: list[str] = field(default_factory=list, repr=False)
    # Key values masked in everything written (None: every key lime knows, looked up at first write).
    secrets: list[str] | None = field(default=None, repr=False)
    # Sub-agents write their side chains from their own threads.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _chains: int = field(default=0, repr=False)

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

    def set_system(self, text: str) -> None:
        """Give a new session (nothing sent or saved yet) its system prompt."""
        assert not self._started and not self.messages, "the system prompt is set before the first message"
        if text:
            self.messages.append({"role": "system", "content": text})
            self._pending.append({"type": "message", "message": self.messages[0]})

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
        last_stats: dict[str, Any] | None = None
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except (ValueError, UnicodeDecodeError, RecursionError):
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
            problem = _event_problem(event) or session._apply(event)
            if problem:
                session.warnings.append(f"session {path.name}: skipped line {number} ({problem})")
            elif isinstance(event.get("stats"), dict):
                last_stats = event["stats"]
        if session is None:
            raise SessionError(f"{path} is empty or not a lime session")
        session.totals.restore_cost(last_stats)
        session._needs_newline = not ends_clean
        if session._partial:
            # The process died mid-answer: keep what had streamed, marked as interrupted.
            msg = {"role": "assistant", "content": "".join(session._partial)}
            session._partial = []
            session._settle_calls(INTERRUPTED_TOOL_RESULT, save=True)
            session.messages.append(msg)
            session._pending.append({"type": "message", "message": msg, "interrupted": True})
            session.warnings.append(f"session {path.name}: the last answer was cut off; keeping its partial text")
        session._settle_calls(INTERRUPTED_TOOL_RESULT, save=True)
        return session

    def _apply(self, event: dict[str, Any]) -> str | None:
        """Replay one (well-shaped) event; a reason when it cannot be used."""
        kind = event.get("type")
        if kind == "partial":
            self._partial.append(event["text"])
            return None
        self._partial = []
        if kind == "message":
            problem = self._replay(event["message"])
            if problem:
                return problem
            self._note_prompt(event["message"])
            self.totals.add(event.get("usage"), priced=False)
        elif kind == "title":
            self.title = event["title"]
        elif kind == "model":
            self.model = event["model"]
        elif kind == "settings":
            self.settings.update(event["settings"])
        elif kind == "clear":
            self._open_calls = []
            self.messages = [m for m in self.messages if m.get("role") == "system"][:1]
        elif kind == "compaction":
            self._settle_calls(LOST_TOOL_RESULT)
            self.messages = self._compacted(event["summary_message"], event.get("keep_last") or 0)
            self.compactions += 1
        elif kind == "history":
            self.messages, self._open_calls = [], []
            dropped = [p for p in map(self._replay, event["messages"]) if p]
            for m in self.messages:
                self._note_prompt(m)
            if dropped:
                return f"kept the rewritten history without {len(dropped)} message(s): {dropped[0]}"
        elif kind in ("usage", "sidechain"):  # a side chain's messages are not this conversation's
            self.totals.add(event.get("usage"), priced=False)
            number = str(event.get("chain", "")).rpartition(".")[2]
            if number.isdigit() and len(number) < 9:  # a resumed session numbers its new chains on
                self._chains = max(self._chains, int(number))
        return None

    def _compacted(self, summary: Message, keep_last: int) -> list[Message]:
        head = [m for m in self.messages[:1] if m.get("role") == "system"]
        body = self.messages[len(head):]
        kept = body[len(body) - keep_last:] if keep_last > 0 else []
        return [*head, summary, *kept]

    def _replay(self, msg: Message) -> str | None:
        """Add one stored message, keeping the history valid for a server; a reason when it is dropped."""
        if msg["role"] == "tool":
            cid = msg["tool_call_id"]
            if cid not in self._open_calls:
                return "a tool result for no pending tool call"
            self._open_calls.remove(cid)
        else:
            self._settle_calls(LOST_TOOL_RESULT)
            if self._unanswered(msg):
                self.messages.append(self._no_answer("this turn failed or was cancelled"))
        self.messages.append(msg)
        if msg["role"] == "assistant" and msg.get("tool_calls"):
            self._open_calls = [call["id"] for call in msg["tool_calls"]]
        return None

    def _unanswered(self, msg: Message) -> bool:
        """True when ``msg`` would make two user messages in a row (a turn that got no answer)."""
        last = self.messages[-1] if self.messages else None
        return (msg.get("role") == "user" and last is not None and last.get("role") == "user"
                and not _is_summary(last) and not _is_summary(msg))

    @staticmethod
    def _no_answer(reason: str) -> Message:
        return {"role": "assistant", "content": NO_ANSWER.format(reason=reason)}

    def record_failure(self, reason: str) -> None:
        """A turn ended without an answer (an error, a cancel): say so in the history, once."""
        if self.messages and self.messages[-1].get("role") == "user" and not _is_summary(self.messages[-1]):
            self.append(self._no_answer(reason), failed=True)

    def _settle_calls(self, content: str, *, save: bool = False) -> None:
        """Answer every tool call still waiting for a result, so the history stays valid for the server."""
        for cid in self._open_calls:
            fix = {"role": "tool", "tool_call_id": cid, "content": content}
            self.messages.append(fix)
            if save:
                self._pending.append({"type": "message", "message": fix})
        self._open_calls = []

    # -- writing -------------------------------------------------------------------------

    def _open(self) -> int:
        if self._fd is None:
            directory = self.path.parent
            try:
                if directory.is_relative_to(config.config_home()):
                    config.ensure_home()
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                # O_NOFOLLOW: a session file planted as a link would send the appends wherever it points.
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise SessionError(f"{self.path} is a symbolic link; lime does not write through it") from None
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
        with self._lock:
            self._write_locked(event)

    def _write_locked(self, event: dict[str, Any]) -> None:
        events = []
        if not self._started:
            events.append({"type": "session", "version": FORMAT_VERSION, "id": self.id, "model": self.model,
                           "created": self.created, "cwd": self.cwd})
            self._started = True
        events.extend(self._pending)
        self._pending.clear()
        # Every event ends with the running summary: ``lime status`` reads it from the file's tail.
        events.append({**event, "stats": self.stats()})
        if self.secrets is None:
            from lime.auth.resolve import known_keys

            self.secrets = known_keys()
        if self.secrets:
            from lime.auth.masking import redact_json

            events = [redact_json(e, self.secrets) for e in events]  # type: ignore[misc]
        payload = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in events)
        fd = self._open()
        # Lone surrogates (undecodable bytes that reached a string) must not stop the write.
        data = payload.encode("utf-8", "replace")
        try:
            while data:
                written = os.write(fd, data)
                data = data[written:]
        except OSError as exc:
            raise SessionError(f"cannot write session {self.path}: {exc.strerror or exc}") from None

    def stats(self) -> dict[str, Any]:
        out = {"messages": len(self.messages), "compactions": self.compactions, **self.totals.to_json()}
        # Pickers read these from the last line, so a list of sessions never reads whole files.
        if self.title:
            out["title"] = self.title
        if self.first_prompt:
            out["first_prompt"] = self.first_prompt
        return out

    def _note_prompt(self, message: Message) -> None:
        """The first typed prompt names the session (until /rename does)."""
        if self.first_prompt or message.get("role") != "user" or _is_summary(message):
            return
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        text = " ".join(str(content or "").split())
        if not text:
            return
        self.first_prompt = text[:200]
        if not self.title:
            self.title = title_from(text)

    def set_title(self, title: str) -> None:
        title = " ".join(title.split())[:100]
        if not title:
            raise SessionError("a title needs some text: /rename TITLE")
        self.title = title
        self._write({"type": "title", "title": title})

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

    def handle(self, event: Event) -> None:
        """The session writer as an event subscriber: what the agent loop says happened joins the
        history and the file; streamed answer text is saved as it arrives, so a crash keeps what the
        user already saw."""
        if type(event) is TextDelta:
            self.stream_text(event.text)
        elif isinstance(event, ev.MessageAdded):
            self.append(event.message, usage=event.usage, **event.meta)
        elif isinstance(event, ev.TurnFailed):
            self.record_failure(event.reason)
        elif isinstance(event, ev.UsageSpent):
            self.record_usage(event.usage)
        elif isinstance(event, ev.HistoryRewritten):
            if event.summary is not None:
                self.compact(event.summary, event.keep_last, **event.meta)
            else:
                self.replace_history(event.messages or [], **event.meta)

    def append(self, message: Message, *, usage: dict[str, Any] | None = None, **meta: Any) -> None:
        if self._unanswered(message):
            self.record_failure("the previous turn ended without an answer")
        self._partial = []
        self._partial_flushed = 0.0
        self.messages.append(message)
        self._note_prompt(message)
        self.totals.add(usage, self.prices)
        event: dict[str, Any] = {"type": "message", "message": message}
        if usage:
            event["usage"] = usage
        event.update(meta)
        self._write(event)

    def record_usage(self, usage: dict[str, Any]) -> None:
        """Usage of a request whose output is not kept in history (e.g. a compaction summary)."""
        self.totals.add(usage, self.prices)
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

    def replace_history(self, messages: list[Message], **meta: Any) -> None:
        """The whole history rewritten (old tool results shortened when compacting)."""
        self.messages = list(messages)
        self._write({"type": "history", "messages": self.messages, **meta})

    def side_chain(self, agent: str, *, model: str, system: str) -> SideChain:
        """A sub-agent's conversation, written into this session's file as ``sidechain`` events."""
        with self._lock:
            self._chains += 1
            chain = f"{self.id}.{self._chains}"
        side = SideChain(id=chain, path=self.path, model=model, created=self.created, cwd=self.cwd,
                         parent=self, agent=agent)
        side.messages.append({"role": "system", "content": system})
        side._pending.append({"type": "message", "message": side.messages[0]})
        return side

    def write_side(self, agent: str, chain: str, event: dict[str, Any], prices: Any = None) -> None:
        """One event of a sub-agent's conversation; its usage counts in this session's totals, at
        ``prices`` (the sub-agent's model's)."""
        usage = event.get("usage")
        with self._lock:
            self.totals.add(usage, prices)
            self._write({"type": "sidechain", "agent": agent, "chain": chain, "event": event,
                         **({"usage": usage} if usage else {})})

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


@dataclass
class SideChain(Session):
    """A sub-agent's conversation: kept in memory like any session, written through its parent's
    file (one lock, one file) so a session file holds the whole run."""

    parent: Session | None = field(default=None, repr=False)
    agent: str = ""

    def _write(self, event: dict[str, Any]) -> None:
        assert self.parent is not None
        events = [*self._pending, event]
        self._pending.clear()
        for e in events:
            self.parent.write_side(self.agent, self.id, e, self.prices)

    def claim(self) -> None:
        pass

    def close(self) -> None:
        pass


# -- finding sessions -------------------------------------------------------------------------


def _session_files(directory: Path) -> Iterator[Path]:
    try:
        yield from (p for p in directory.iterdir() if p.suffix == SUFFIX and p.is_file() and not p.is_symlink())
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
    if exact.is_symlink():
        raise SessionError(f"{exact} is a symbolic link; lime does not follow it")
    if exact.is_file():
        return exact
    matches = sorted(p for p in _session_files(directory) if p.stem.startswith(ref))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SessionError(f"no session matches {ref!r} in {directory}", hint="use an id, a path or 'latest'")
    shown = ", ".join(p.stem for p in matches[:5])
    raise SessionError(f"{ref!r} matches {len(matches)} sessions ({shown}{', ...' if len(matches) > 5 else ''})")


def _header(fh: Any) -> dict[str, Any] | None:
    line = fh.readline(1 << 16)
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) and event.get("type") == "session" and isinstance(event.get("id"), str) \
        else None


def _tail_stats(fh: Any, size: int, window: int = 1 << 16) -> tuple[dict[str, Any], str] | None:
    """The running summary and model of the last complete event that carries one, read from the end."""
    while True:
        start = max(0, size - window)
        fh.seek(start)
        lines = fh.read(size - start).split(b"\n")
        if start > 0:
            lines = lines[1:]  # the first piece may be the end of a longer line
        model = None
        for raw in reversed(lines):
            if b'"stats"' not in raw:
                continue
            try:
                event = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            stats = event.get("stats") if isinstance(event, dict) else None
            if isinstance(stats, dict):
                if event.get("type") == "model" and isinstance(event.get("model"), str):
                    model = event["model"]
                return stats, model or ""
        if start == 0 or window >= TAIL_LIMIT:
            return None
        window *= 4


def latest_summary(directory: Path | None = None) -> dict[str, Any] | None:
    """What ``lime status`` shows about the current (latest) session.

    Read from the header line and the file's tail (every event carries the running totals), so the
    time does not grow with the session. Sessions written by an older lime (no totals) are loaded
    whole only when small.
    """
    path = latest(directory)
    if path is None:
        return None
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            header = _header(fh)
            found = _tail_stats(fh, size) if header is not None else None
    except OSError:
        return None
    if header is None:
        return None
    if found is None:
        if size > 4 << 20:
            return None
        try:
            s = Session.load(path)
        except SessionError:
            return None
        stats, model = s.stats(), s.model
    else:
        stats, model = found
    out: dict[str, Any] = {"id": header["id"], "path": str(path), "model": model or str(header.get("model") or "")}
    for name in ("messages", "compactions", "prompt_tokens", "completion_tokens", "requests", "cache_read_tokens",
                 "cache_write_tokens", "cache_write_1h_tokens"):
        out[name] = _count(stats.get(name))
    out["estimated"] = bool(stats.get("estimated"))
    cost = _usd(stats.get("cost_usd"))
    if cost is not None:
        out["cost_usd"] = cost
    unpriced = min(_count(stats.get("unpriced_requests")), out["requests"])
    if unpriced:
        out["unpriced_requests"] = unpriced
    return out


@dataclass
class Summary:
    """One saved session as a picker lists it."""

    id: str
    path: Path
    title: str
    first_prompt: str
    messages: int
    modified: float
    model: str


def summaries(directory: Path | None = None) -> list[Summary]:
    """Every readable session, newest first, from each file's first line and its tail only."""
    directory = directory or config.sessions_dir()
    out: list[Summary] = []
    for path in _session_files(directory):
        try:
            with path.open("rb") as fh:
                st = os.fstat(fh.fileno())
                header = _header(fh)
                if header is None:
                    continue
                found = _tail_stats(fh, st.st_size, 4096)
        except OSError:
            continue
        stats, model = found if found is not None else ({}, "")
        title = stats.get("title")
        first = stats.get("first_prompt")
        out.append(Summary(id=header["id"], path=path, title=title if isinstance(title, str) else "",
                           first_prompt=first if isinstance(first, str) else "",
                           messages=_count(stats.get("messages")), modified=st.st_mtime,
                           model=model or str(header.get("model") or "")))
    out.sort(key=lambda s: (s.modified, s.id), reverse=True)
    return out
