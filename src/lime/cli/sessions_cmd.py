"""Finding and switching sessions: ``lime sessions list``, and the REPL's /resume, /new, /rename, /fork.

Listing reads each session file's first line and its tail only (every event carries the running
summary, title and first prompt), so a thousand sessions list in well under the blink of an eye.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from lime.textsafe import sanitize

if TYPE_CHECKING:
    from lime.runtime.session import Session, Summary

# The REPL (lime.cli.repl.Repl), which imports this module: console, s (Ready), agent, sessions_dir.
Repl = Any


def register(sub: Any) -> None:
    p = sub.add_parser("sessions", help="list saved sessions (title, age, first prompt, messages)")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    ls = actions.add_parser("list", help="saved sessions, newest first")
    ls.add_argument("--json", dest="as_json", action="store_true", help="one JSON object per session")
    ls.add_argument("-n", "--limit", type=int, default=0, metavar="N", help="show only the newest N")
    p.set_defaults(handler=run_sessions)


def age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def table(items: list[Summary], *, now: float | None = None, width: int = 100) -> list[str]:
    """One line per session: id, age, message count, title, first prompt (all shown safely)."""
    now = time.time() if now is None else now
    lines = []
    for s in items:
        head = f"{s.id:<22} {age(now - s.modified):>9} {s.messages:>5} msgs  "
        title = sanitize(s.title or "(untitled)")
        first = sanitize(s.first_prompt)
        rest = title if not first or first.startswith(s.title.rstrip("…")) else f"{title} — {first}"
        room = max(20, width - len(head))
        lines.append(head + (rest if len(rest) <= room else rest[:room - 1] + "…"))
    return lines


def run_sessions(args: argparse.Namespace) -> int:
    from lime.runtime.session import summaries

    items = summaries()
    if args.limit and args.limit > 0:
        items = items[:args.limit]
    if getattr(args, "as_json", False):
        for s in items:
            print(json.dumps({"id": s.id, "title": s.title, "first_prompt": s.first_prompt, "messages": s.messages,
                              "modified": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s.modified)),
                              "model": s.model, "path": str(s.path)}, ensure_ascii=False))
        return 0
    if not items:
        print("no saved sessions")
        return 0
    for line in table(items):
        print(line)
    return 0


# -- the REPL's session commands ---------------------------------------------------------------


def _switch(repl: Repl, session: Session) -> None:
    repl.agent.switch_session(session)


def _open(repl: Repl, ref: str) -> None:
    from lime.runtime import session as sessions

    path = sessions.find(ref, repl.sessions_dir)
    if path == repl.s.session.path:
        repl.console.print("already in that session", style="dim")
        return
    session = sessions.Session.load(path)
    session.claim()
    for w in session.warnings:
        repl.console.print(f"warning: {sanitize(w)}", style="yellow", markup=False, highlight=False)
    _switch(repl, session)
    n = sum(1 for m in session.messages if m.get("role") in ("user", "assistant"))
    repl.console.print(f"resumed session {session.id}: {sanitize(session.title or '(untitled)')} ({n} messages)",
                       markup=False, highlight=False)
    repl.show_last_exchange()


def pick(repl: Repl) -> str | None:
    """A picker over the saved sessions: type to filter, arrows to choose, Enter to open."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import Completer, Completion

    from lime.runtime.session import summaries

    items = [s for s in summaries(repl.sessions_dir) if s.path != repl.s.session.path]
    if not items:
        repl.console.print("no other saved sessions", style="dim")
        return None
    now = time.time()

    class Sessions(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            words = document.text_before_cursor.lower().split()
            for s in items:
                hay = f"{s.id} {s.title} {s.first_prompt}".lower()
                if all(w in hay for w in words):
                    label = sanitize(s.title or s.first_prompt or "(untitled)")[:50]
                    yield Completion(s.id, start_position=-len(document.text_before_cursor),
                                     display=f"{label:<50}",
                                     display_meta=f"{age(now - s.modified)} · {s.messages} msgs · {s.id}")

    ps: Any = PromptSession(completer=Sessions(), complete_while_typing=True, reserve_space_for_menu=8)

    def _open_menu() -> None:
        ps.app.current_buffer.start_completion(select_first=False)

    repl.console.print("resume which session? type to filter, ↑↓ to choose, Enter to open, Ctrl-C to cancel",
                       style="dim")
    try:
        answer = str(ps.prompt("resume › ", pre_run=_open_menu)).strip()
    except (KeyboardInterrupt, EOFError):
        return None
    if not answer:
        return items[0].id
    if any(s.id == answer for s in items):
        return answer
    words = answer.lower().split()
    found = [s for s in items if all(w in f"{s.id} {s.title} {s.first_prompt}".lower() for w in words)]
    if len(found) == 1:
        return found[0].id
    repl.console.print(f"{len(found)} sessions match {sanitize(answer)!r}; nothing opened", markup=False,
                       highlight=False)
    return None


def cmd_resume(repl: Repl, rest: str) -> None:
    ref = rest or pick(repl)
    if ref:
        _open(repl, ref)


def cmd_new(repl: Repl, _rest: str) -> None:
    from lime.runtime import session as sessions

    old = repl.s.session
    system = next((str(m.get("content")) for m in old.messages[:1] if m.get("role") == "system"), None)
    session = sessions.Session.new(repl.agent.route.slug, directory=repl.sessions_dir, system=system)
    session.settings.update(old.settings)
    _switch(repl, session)
    repl.console.print(f"new session {session.id} (the last one is kept: /resume {old.id})", markup=False,
                       highlight=False)


def cmd_rename(repl: Repl, rest: str) -> None:
    repl.s.session.set_title(rest)
    repl.console.print(f"session titled {sanitize(repl.s.session.title)!r}", markup=False, highlight=False)


def cmd_fork(repl: Repl, rest: str) -> None:
    from lime.runtime import session as sessions

    old = repl.s.session
    if not any(m.get("role") == "user" for m in old.messages):
        repl.console.print("nothing to fork yet: the conversation is empty", style="dim")
        return
    session = sessions.Session.new(repl.agent.route.slug, directory=repl.sessions_dir)
    session.settings.update(old.settings)
    session.first_prompt = old.first_prompt
    session.title = " ".join(rest.split())[:100] or f"{old.title or old.id} (fork)"
    session.replace_history([dict(m) for m in old.messages], forked_from=old.id)
    session.set_title(session.title)
    _switch(repl, session)
    repl.console.print(f"forked into session {session.id}; {old.id} stays as it was", markup=False,
                       highlight=False)
