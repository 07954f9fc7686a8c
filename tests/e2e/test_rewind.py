"""Rewind on a real pseudo-terminal: Esc Esc lists the prompts, the conversation goes back to
before the chosen one, and the files lime's tools wrote since are restored — except one changed
outside lime in between, which is kept."""

from __future__ import annotations

import json

import pexpect

from support.fakeserver import reply, tool_call_stream

from .conftest import Lime, chat
from .test_repl import finish, say, spawn
from .test_subagents import Script, child_edits, spawn_call


def test_rewind_restores_exactly_the_files_lime_wrote(lime: Lime) -> None:
    (lime.cwd / "b.txt").write_text("b1\n")
    (lime.cwd / "keep.txt").write_text("orig keep\n")
    (lime.cwd / "other.txt").write_text("never touched by lime\n")
    lime.server.enqueue(
        tool_call_stream([("edit_file", {"path": "b.txt", "old_string": "b1", "new_string": "b2"}),
                          ("write_file", {"path": "new.txt", "content": "brand new\n"})]),
        reply("Done one."),
        tool_call_stream([("edit_file", {"path": "keep.txt", "old_string": "orig keep", "new_string": "lime keep"}),
                          ("edit_file", {"path": "b.txt", "old_string": "b2", "new_string": "b3"})]),
        reply("Done two."),
        reply("Again."),
    )
    child = spawn(lime, "--permission-mode", "acceptEdits")
    say(child, "first change")
    child.expect("Done one.")
    child.expect("›")
    say(child, "second change")
    child.expect("Done two.")
    child.expect("›")
    assert (lime.cwd / "b.txt").read_text() == "b3\n" and (lime.cwd / "new.txt").exists()
    (lime.cwd / "keep.txt").write_text("edited by the user\n")  # outside lime, after lime wrote it
    (lime.cwd / "other.txt").write_text("changed by the user\n")
    child.send("\x1b\x1b")  # Esc Esc at the prompt opens the rewind list
    child.expect("1  first change")
    child.expect("2  second change")
    child.expect("which prompt")
    say(child, "1")
    child.expect("also restore the files lime changed since")
    say(child, "y")
    child.expect("rewound to before prompt 1")
    child.expect("restored b.txt")
    child.expect("kept keep.txt: changed outside lime")
    child.expect("›")
    assert (lime.cwd / "b.txt").read_text() == "b1\n"
    assert not (lime.cwd / "new.txt").exists()
    assert (lime.cwd / "keep.txt").read_text() == "edited by the user\n"
    assert (lime.cwd / "other.txt").read_text() == "changed by the user\n"
    child.expect("first change")
    child.send("\r")  # the rewound prompt is back on the line: send it again as it was
    child.expect("Again.")
    finish(child)
    assert [m["content"] for m in chat(lime.server.last.json["messages"])] == ["first change"]
    # The rewind is in the session file: resuming continues from the rewound history.
    history = [e for e in lime.session_events() if e["type"] == "history"]
    assert history and history[-1]["reason"] == "rewind"
    checkpoints = next((lime.home / "sessions").glob("*.checkpoints"))
    assert checkpoints.stat().st_mode & 0o077 == 0
    assert {json.loads(line).get("path", "").rsplit("/", 1)[-1] for line in checkpoints.read_text().splitlines()} \
        >= {"b.txt", "new.txt", "keep.txt"}


def test_rewind_without_restoring_files(lime: Lime) -> None:
    (lime.cwd / "b.txt").write_text("b1\n")
    lime.server.enqueue(tool_call_stream([("edit_file", {"path": "b.txt", "old_string": "b1", "new_string": "b2"})]),
                        reply("Done."))
    child = spawn(lime, "--permission-mode", "acceptEdits")
    say(child, "change it")
    child.expect("Done.")
    child.expect("›")
    say(child, "/rewind 1")
    child.expect(r"restore the files")
    say(child, "n")
    child.expect("rewound to before prompt 1")
    child.expect("›")
    child.send("\x15")  # clear the prefilled prompt
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert (lime.cwd / "b.txt").read_text() == "b2\n"


def test_rewind_restores_a_file_a_sub_agent_wrote(lime: Lime) -> None:
    """A child's writes are checkpointed against the parent's turn, like the parent's own."""
    (lime.cwd / "c.txt").write_text("c1\n")
    Script(lime, "delegate it", [spawn_call("general-purpose", "edit c")],
           {"edit c": child_edits("c.txt", "c1", "c2", "child done")}, final="Parent done.")
    child = spawn(lime, "--permission-mode", "acceptEdits")
    say(child, "delegate it")
    child.expect("Parent done.")
    child.expect("›")
    assert (lime.cwd / "c.txt").read_text() == "c2\n"
    child.send("\x1b\x1b")
    child.expect("1  delegate it")
    child.expect("which prompt")
    say(child, "1")
    child.expect("also restore the files lime changed since")
    say(child, "y")
    child.expect("restored c.txt")
    child.expect("›")
    assert (lime.cwd / "c.txt").read_text() == "c1\n"
    child.expect("delegate it")  # the rewound prompt is back on the line
    child.send("\x15")  # Ctrl-U clears it
    child.sendeof()
    child.expect(pexpect.EOF)
