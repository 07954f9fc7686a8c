"""The REPL on a real pseudo-terminal: streamed answers, slash commands, Ctrl-C, approval prompts, resume."""

from __future__ import annotations

import io
import sys

import pexpect
import pytest

from support.fakeserver import reasoning_stream, reply, text_stream, tool_call_stream

from .conftest import Lime, chat


def spawn(lime: Lime, *args: str) -> pexpect.spawn:
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime", *args], env=env, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=30, dimensions=(40, 110))
    child.expect(r"model [^\r\n]*fake-model")
    child.expect("›")
    return child


def say(child: pexpect.spawn, text: str) -> None:
    child.send(text + "\r")


def finish(child: pexpect.spawn) -> None:
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_chat_slash_commands_and_resume(lime: Lime) -> None:
    lime.server.enqueue(text_stream("Hello **there**, nice to meet you.\n\n```python\nprint(42)\n```\n", chunks=8),
                        reply("Second answer from other model."))
    child = spawn(lime)
    say(child, "hello")
    child.expect("nice to meet you")  # rendered: no literal ** around "there"
    child.expect("print")
    child.expect("›")
    say(child, "/model")
    child.expect(r"\* fake-model")
    child.expect("other-model")
    child.expect("›")
    say(child, "/reasoning high")
    child.expect("does not take a reasoning level")
    child.expect("›")
    child.send("/mod\t")  # Tab completes commands, then model slugs
    child.expect("el")  # the completion is drawn before the next keys (it runs asynchronously)
    child.send(" other-m\t")
    child.expect("odel")
    child.send("\r")
    child.expect(r"model: [^\r\n]*other-model")
    child.expect("›")
    say(child, "/reasoning high")
    child.expect("reasoning: high")
    child.expect("›")
    say(child, "and now?")
    child.expect("Second answer from other model")
    child.expect("›")
    say(child, "/status")
    child.expect("other-model")
    child.expect("tokens used")
    child.expect("›")
    say(child, "/nonsense")
    child.expect("unknown command")
    finish(child)
    assert "+hello" in (lime.home / "history").read_text()  # persistent line-editing history
    assert (lime.home / "history").stat().st_mode & 0o077 == 0  # what was typed is private, as keys are
    body = lime.server.last.json
    assert body["model"] == "other-wire"
    assert [m["content"] for m in chat(body["messages"])] == [
        "hello", "Hello **there**, nice to meet you.\n\n```python\nprint(42)\n```\n", "and now?"]
    # Resume in the REPL: same model, same history.
    lime.server.enqueue(reply("Third."))
    child = pexpect.spawn(sys.executable, ["-m", "lime", "-c"], env={**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1",
                          "TERM": "xterm-256color", "LIME_MODEL": ""}, cwd=str(lime.cwd), encoding="utf-8",
                          timeout=30, dimensions=(40, 110))
    child.expect(r"model [^\r\n]*other-model")
    child.expect("resumed session")
    child.expect("›")
    say(child, "third")
    child.expect("Third.")
    finish(child)
    assert len(chat(lime.server.last.json["messages"])) == 5


def test_ctrl_c_cancels_the_answer_and_keeps_the_session(lime: Lime) -> None:
    lime.server.enqueue(text_stream("word " * 300, chunks=300, delay=0.03),
                        reasoning_stream("pondering the question", "Still here."))
    child = spawn(lime)
    say(child, "tell me a long story")
    child.expect("word word")
    child.sendintr()
    child.expect("cancelled")
    child.expect("›")
    say(child, "are you there?")
    child.expect("pondering")  # reasoning is shown (dimmed) before the answer
    child.expect("Still here.")
    child.expect("›")
    child.sendintr()  # Ctrl-C twice at an empty prompt leaves
    child.expect("Ctrl-C again")
    child.expect("›")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    sent = chat(lime.server.last.json["messages"])
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    partial = sent[1]["content"]
    assert partial.startswith("word word") and len(partial) < len("word " * 300)


def test_tool_approval_prompt_clear_and_compact(lime: Lime) -> None:
    (lime.cwd / "notes.txt").write_text("count = 1\n")
    lime.server.enqueue(
        tool_call_stream([("edit_file", {"path": "notes.txt", "old_string": "count = 1", "new_string": "count = 2"})]),
        reply("Edited."),
    )
    child = spawn(lime)
    say(child, "bump it")
    child.expect("Allow\\?")
    say(child, "y")
    child.expect("Edited.")
    child.expect("›")
    assert (lime.cwd / "notes.txt").read_text() == "count = 2\n"
    say(child, "/compact")  # too short for a summary to save anything: no request is spent on it
    child.expect("nothing to compact")
    child.expect("›")
    say(child, "/clear")
    child.expect("conversation cleared")
    finish(child)
    events = [e["type"] for e in lime.session_events()]
    assert "compaction" not in events and events[-1] == "clear"
    assert len(lime.server.chat_requests) == 2


@pytest.mark.parametrize("answer", ["n"])
def test_declined_tool_is_reported_to_the_model(lime: Lime, answer: str) -> None:
    lime.server.enqueue(reply("Two lines received."),
                        tool_call_stream([("shell", {"command": "touch made"})]), reply("OK, not running it."))
    child = spawn(lime)
    child.send("line one\x1b\r")  # Alt-Enter: a newline, not a send
    say(child, "line two")
    child.expect("Two lines received.")
    assert lime.server.last.json["messages"][-1]["content"] == "line one\nline two"
    say(child, "make a file")
    child.expect("Allow\\?")
    say(child, answer)
    child.expect("not running it")
    finish(child)
    assert not (lime.cwd / "made").exists()
    assert "declined" in lime.server.last.json["messages"][-1]["content"]


def test_one_shot_on_a_terminal_renders_markdown_and_can_ask(lime: Lime) -> None:
    (lime.cwd / "n.txt").write_text("a\n")
    lime.server.enqueue(
        tool_call_stream([("write_file", {"path": "n.txt", "content": "b\n"})]),
        text_stream("# Done\n\nThe file now holds **b**.\n", chunks=4),
    )
    env = {**lime.env, "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime", "-p", "change it"], env=env, cwd=str(lime.cwd),
                          encoding="utf-8", timeout=30, dimensions=(40, 110))
    seen = io.StringIO()
    child.logfile_read = seen
    child.expect("write_file n.txt")
    child.expect("Allow\\?")
    child.send("y\r")
    child.expect("The file now holds")
    child.expect(pexpect.EOF)
    out = seen.getvalue()
    child.close()
    assert child.exitstatus == 0
    assert "Done" in out and "**b**" not in out and "# Done" not in out  # rendered, not raw Markdown
    assert (lime.cwd / "n.txt").read_text() == "b\n"


def test_ctrl_c_in_one_shot_exits_130_and_keeps_the_partial_answer(lime: Lime) -> None:
    lime.server.enqueue(text_stream("word " * 300, chunks=300, delay=0.03))
    child = pexpect.spawn(sys.executable, ["-m", "lime", "-p", "long story"], env={**lime.env, "TERM": "xterm"},
                          cwd=str(lime.cwd), encoding="utf-8", timeout=30, dimensions=(40, 110))
    child.expect("word word")
    child.sendintr()
    child.expect("cancelled")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    events = lime.session_events()
    assert events[-1]["message"]["role"] == "assistant" and events[-1]["interrupted"] is True
    assert events[-1]["message"]["content"].startswith("word word")


def test_ctrl_c_stops_a_running_shell_command(lime: Lime) -> None:
    lime.server.enqueue(tool_call_stream([("shell", {"command": "sleep 30"})]), reply("Understood."))
    child = spawn(lime, "--dangerously-skip-permissions")
    say(child, "wait a bit")
    child.expect("bash: sleep 30")
    child.sendintr()
    child.expect("cancelled")
    child.expect("›")
    say(child, "never mind")
    child.expect("Understood.")
    finish(child)
    sent = chat(lime.server.last.json["messages"])
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "user"]
    assert sent[2]["content"].startswith("cancelled: the user interrupted")


def test_a_session_open_in_a_repl_is_not_appended_to_by_another_lime(lime: Lime) -> None:
    lime.server.enqueue(reply("first"))
    assert lime.run("-p", "start").returncode == 0
    child = spawn(lime, "-c")
    proc = lime.run("-c", "-p", "sneak in")
    assert proc.returncode == 1 and "in use by another lime process" in proc.stderr
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    lime.server.enqueue(reply("now fine"))
    assert lime.run("-c", "-p", "after").stdout == "now fine\n"
