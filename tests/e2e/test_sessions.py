"""Sessions you can find, name, fork and switch: ``lime sessions list``, ``--resume REF /CMD``, and
the REPL's /resume picker, /new, /rename and /fork on a real pseudo-terminal."""

from __future__ import annotations

import json

import pexpect

from support.fakeserver import reply

from .conftest import Lime, chat
from .test_repl import finish, say, spawn


def _titles(lime: Lime) -> dict[str, str]:
    out = lime.run("sessions", "list", "--json")
    assert out.returncode == 0, out.stderr
    return {d["id"]: d["title"] for d in map(json.loads, out.stdout.splitlines())}


def test_titles_list_and_resume_commands_without_a_repl(lime: Lime) -> None:
    assert lime.run("sessions", "list").stdout.strip() == "no saved sessions"
    lime.server.enqueue(reply("Paris."), reply("Two."))
    assert lime.run("-p", "What is the capital of France, and why is it there historically?").returncode == 0
    assert lime.run("-p", "one plus one").returncode == 0
    listed = lime.run("sessions", "list")
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and "one plus one" in lines[0] and "capital of France" in lines[1]
    assert "2 msgs" in lines[0] or "3 msgs" in lines[0]
    first = [i for i, t in _titles(lime).items() if "France" in t][0]
    # Resume-capable slash commands run on a saved session and exit, with no model request.
    requests = len(lime.server.chat_requests)
    out = lime.run("--resume", first[:17], "/rename Geography notes", "/status")
    assert out.returncode == 0, out.stderr
    assert "session titled 'Geography notes'" in out.stdout
    assert f"session       {first}" in out.stdout and "Geography notes" in out.stdout
    assert _titles(lime)[first] == "Geography notes"
    assert len(lime.server.chat_requests) == requests
    # What needs the REPL says so; without a session to resume the commands are refused.
    bad = lime.run("--resume", first, "/fork")
    assert bad.returncode != 0 and "/fork needs the interactive REPL" in bad.stderr
    none = lime.run("/status")
    assert none.returncode != 0 and "lime --resume REF /CMD" in none.stderr
    # The title survives the next turn of the renamed session.
    lime.server.enqueue(reply("Sure."))
    assert lime.run("--resume", first, "-p", "more please").returncode == 0
    assert _titles(lime)[first] == "Geography notes"


def test_picker_new_rename_and_fork_in_the_repl(lime: Lime) -> None:
    lime.server.enqueue(reply("Alpha answer."), reply("Beta answer."), reply("Forked answer."), reply("Back."))
    child = spawn(lime)
    say(child, "alpha question about apples")
    child.expect("Alpha answer.")
    child.expect("›")
    say(child, "/new")
    child.expect("new session")
    child.expect("›")
    say(child, "beta question about bananas")
    child.expect("Beta answer.")
    child.expect("›")
    say(child, "/rename Banana talk")
    child.expect("session titled 'Banana talk'")
    child.expect("›")
    say(child, "/fork")
    child.expect("forked into session")
    child.expect("›")
    say(child, "and in the fork?")
    child.expect("Forked answer.")
    child.expect("›")
    # The fork carried the history; the original stays as it was.
    assert [m["content"] for m in chat(lime.server.last.json["messages"])] == [
        "beta question about bananas", "Beta answer.", "and in the fork?"]
    say(child, "/resume")
    child.expect("type to filter")
    child.expect("Banana talk")  # the menu is open before anything is typed
    child.send("apple\r")  # the filter matches one session: Enter opens it
    child.expect("resumed session")
    child.expect("alpha question about apples")
    child.expect("›")
    say(child, "back in alpha")
    child.expect("Back.")
    finish(child)
    assert [m["content"] for m in chat(lime.server.last.json["messages"])] == [
        "alpha question about apples", "Alpha answer.", "back in alpha"]
    titles = sorted(_titles(lime).values())
    assert titles == ["Banana talk", "Banana talk (fork)", "alpha question about apples"]


def test_resume_latest_and_unknown_id(lime: Lime) -> None:
    lime.server.enqueue(reply("Old."))
    assert lime.run("-p", "an older chat").returncode == 0
    child = spawn(lime)
    say(child, "/resume nosuchsession")
    child.expect("no session matches")
    child.expect("›")
    say(child, "/resume")  # the picker: ↓ chooses the first (newest) session, Enter opens it
    child.expect("an older chat")
    child.send("\x1b[B")
    child.send("\r")
    child.expect("resumed session")
    child.expect("an older chat")
    child.expect("›")
    say(child, "/resume latest")
    child.expect("already in that session")
    child.expect("›")
    child.send("/rnm\t")  # the / palette matches letters in order: /rename
    child.expect("ename")
    child.send(" Fuzzy title\r")
    child.expect("session titled 'Fuzzy title'")
    child.expect("›")
    say(child, "/help")
    child.expect(r"/status \*")
    child.expect(r"also runs without a REPL")
    finish(child)
    assert isinstance(pexpect.EOF, type)


def test_option_values_that_look_like_commands_stay_values(lime: Lime) -> None:
    lime.server.enqueue(reply("fine"))
    out = lime.run("--add-dir", "/tmp", "-p", "/explain this")
    assert out.returncode == 0, out.stderr
    assert chat(lime.server.last.json["messages"])[-1]["content"] == "/explain this"
