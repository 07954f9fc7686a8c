"""Any size of text counts: a million-character prompt goes to the server or ends in the usual
overflow error, never a tokenizer crash; its estimated usage and the resumed session work too."""

from __future__ import annotations

import json

from support.fakeserver import overflow, reply

from .conftest import Lime

BIG = "word " * 220_000  # what `python3 -c "print('word '*220000)"` pipes in


def test_a_million_characters_go_to_a_server_whose_window_takes_them(lime: Lime) -> None:
    lime.add_model("huge-window", context_window=2_000_000)  # no include_usage: lime estimates
    lime.server.enqueue(reply("A word, repeated."), reply("Still words."))
    proc = lime.run("--model", "huge-window", "--json", "-p", "summarise", input=BIG)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["text"] == "A word, repeated."
    assert lime.server.last.json["messages"][-1]["content"].endswith("word word")
    assert data["usage"]["estimated"] is True and 150_000 < data["usage"]["prompt_tokens"] < 300_000
    # the session with the huge message resumes
    proc = lime.run("--model", "huge-window", "-c", "-p", "and again?")
    assert proc.returncode == 0 and proc.stdout == "Still words.\n", proc.stderr


def test_a_million_characters_over_the_window_end_in_the_overflow_error(lime: Lime) -> None:
    lime.server.default = overflow("llamacpp", 220_003, 32_000)
    proc = lime.run("-p", "summarise", input=BIG)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("lime: error:") and "context" in lines[-1], proc.stderr
    assert "too long to encode" not in proc.stderr
