"""``!COMMAND`` in the REPL: a shell line the user typed, run without a model round-trip.

The user typed it, so no approval is asked, but it runs exactly as the ``bash`` tool's commands do
(same runner, same sandbox layers, same scrubbed environment, timeout and output cap). The command
and its output are shown, and go with the next prompt as context.
"""

from __future__ import annotations

from typing import Any

from lime.cli.ui import esc


def run_shell_line(repl: Any, command: str) -> str:
    """Run ``command``; the text that joins the conversation (empty when nothing ran)."""
    from lime.auth.masking import redact
    from lime.runtime.tools import bash
    from lime.runtime.workspace import ToolFailure
    from lime.textsafe import sanitize

    if not command:
        repl.console.print("! runs a shell line: !git status", style="dim")
        return ""
    ws = repl.agent.workspace
    try:
        out = bash(ws, {"command": command})
    except ToolFailure as exc:
        out = f"[{exc}]"
    except KeyboardInterrupt:
        out = "[interrupted]"
    out = redact(out, list(ws.secrets))  # a key printed by the command never reaches the model or the file
    repl.console.print(sanitize(out), markup=False, highlight=False, soft_wrap=True)
    repl.console.print(f"[dim](the command and its output go with your next message: {esc(command[:60])})[/dim]",
                       highlight=False)
    return f"I ran this shell command:\n$ {command}\n```\n{out}\n```"
