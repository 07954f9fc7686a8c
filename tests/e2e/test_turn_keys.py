"""Keys during a streamed answer on a real pseudo-terminal: Esc cancels like Ctrl-C, and a
Ctrl-C in the middle of a redraw leaves every line of the answer on screen exactly once."""

from __future__ import annotations

import io
import sys
from collections import Counter

import pexpect
import pyte

from support.fakeserver import reply, text_stream

from .conftest import Lime, chat
from .test_repl import finish, say

ROWS, COLS = 120, 100


def _spawn(lime: Lime) -> pexpect.spawn:
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color", "COLUMNS": str(COLS),
           "LINES": str(ROWS)}
    child = pexpect.spawn(sys.executable, ["-m", "lime"], env=env, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=30, dimensions=(ROWS, COLS))
    child.expect("›")
    return child


def _answer() -> str:
    return "".join(f"Paragraph {n:02d} says something {'long ' * 6}here.\n\n" for n in range(1, 40))


def test_esc_cancels_the_answer_like_ctrl_c(lime: Lime) -> None:
    lime.server.enqueue(text_stream(_answer(), chunks=400, delay=0.02), reply("Still here."))
    child = _spawn(lime)
    say(child, "talk")
    child.expect("Paragraph 03")
    child.send("\x1b")
    child.expect("cancelled")
    child.expect("›")
    say(child, "again")
    child.expect("Still here.")
    finish(child)
    sent = chat(lime.server.last.json["messages"])
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"].startswith("Paragraph 01") and "Paragraph 39" not in sent[1]["content"]


def test_ctrl_c_mid_answer_prints_each_line_once(lime: Lime) -> None:
    for attempt in range(3):
        lime.server.enqueue(text_stream(_answer(), chunks=600, delay=0.01))
        child = _spawn(lime)
        log = io.StringIO()
        child.logfile_read = log
        say(child, "talk")
        child.expect(f"Paragraph {5 + attempt * 3:02d}")
        child.sendintr()
        child.expect("cancelled")
        child.expect("›")
        child.sendeof()
        child.expect(pexpect.EOF)
        child.close()
        # Everything the terminal received, in order, replayed on an emulated screen.
        screen = pyte.Screen(COLS, ROWS)
        pyte.Stream(screen).feed(log.getvalue())
        shown = [line.strip() for line in screen.display if line.strip().startswith("Paragraph")]
        assert shown, screen.display
        twice = [line for line, n in Counter(shown).items() if n > 1]
        assert not twice, f"printed twice: {twice}"
