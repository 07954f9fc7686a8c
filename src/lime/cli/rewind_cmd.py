"""``/rewind`` (and Esc Esc at the prompt): go back to an earlier user turn.

The conversation is cut before the chosen turn (its text comes back on the prompt line to edit),
and, when asked, the files lime's tools wrote since are restored from their checkpoints
(runtime/checkpoints.py); a file changed outside lime in between is kept as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lime.textsafe import sanitize


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def cmd_rewind(repl: Any, rest: str) -> None:
    from prompt_toolkit import PromptSession

    from lime.runtime.checkpoints import Checkpoints, user_turns

    agent = repl.agent
    messages = agent.session.messages
    turns = user_turns(messages)
    if not turns:
        repl.console.print("nothing to rewind: no earlier prompts in this conversation", style="dim")
        return
    shown = list(enumerate(turns, start=1))[-20:]
    for n, i in shown:
        first = " ".join(_text(messages[i]).split())
        repl.console.print(f"{n:>3}  {sanitize(first[:90])}", markup=False, highlight=False)
    choice = rest
    ps: Any = PromptSession()
    try:
        if not choice:
            choice = str(ps.prompt("rewind to before which prompt? (number, Enter cancels) ")).strip()
        if not choice:
            return
        if not choice.isdigit() or not 1 <= int(choice) <= len(turns):
            repl.console.print(f"no prompt {sanitize(choice)}; pick 1–{len(turns)}", markup=False, highlight=False)
            return
        turn = int(choice)
        cp = Checkpoints(agent)
        files = cp.files_since(turn)
        restore = False
        if files:
            names = ", ".join(agent.workspace.show(Path(f)) for f in files[:8])
            more = f" and {len(files) - 8} more" if len(files) > 8 else ""
            answer = str(ps.prompt(f"also restore the files lime changed since ({names}{more})? [y/N] "))
            restore = answer.strip().lower() in ("y", "yes")
    except (KeyboardInterrupt, EOFError):
        return
    index = turns[turn - 1]
    text = _text(messages[index])
    agent.session.replace_history(messages[:index], reason="rewind")
    agent.anchor = None
    repl.console.print(f"rewound to before prompt {turn}", highlight=False)
    if restore:
        done = cp.restore(turn)
        for path in done.restored:
            repl.console.print(f"  restored {sanitize(agent.workspace.show(Path(path)))}",
                               markup=False, highlight=False)
        for path in done.kept:
            repl.console.print(f"  kept {sanitize(agent.workspace.show(Path(path)))}: changed outside lime since lime wrote it",
                               style="yellow", markup=False, highlight=False)
    else:
        cp.forget(turn)
    repl.next_default = text
