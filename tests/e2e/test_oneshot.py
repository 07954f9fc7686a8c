"""One-shot chat through the real ``lime`` command: prompts, pipes, output formats, failures."""

from __future__ import annotations

import json

from support.fakeserver import error, reply, text_stream

from .conftest import KEY, Lime, chat


def test_prompt_streams_plain_text_to_a_pipe(lime: Lime) -> None:
    lime.server.enqueue(text_stream("Hello there, **friend**.", chunks=5))
    proc = lime.run("-p", "Say hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello there, **friend**.\n"  # raw Markdown, untouched, when not a terminal
    req = lime.server.last
    assert req.stream and req.json["model"] == "fake-model"
    assert chat(req.json["messages"]) == [{"role": "user", "content": "Say hello"}]
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert len(lime.sessions()) == 1


def test_piped_stdin_is_appended_to_the_prompt_and_works_alone(lime: Lime) -> None:
    lime.server.enqueue(reply("Looks fine."), reply("A diff."))
    proc = lime.run("-p", "review this", input="--- a/x\n+++ b/x\n+new line\n")
    assert proc.returncode == 0 and proc.stdout == "Looks fine.\n"
    assert lime.server.last.json["messages"][-1]["content"] == "review this\n\n--- a/x\n+++ b/x\n+new line"
    proc = lime.run(input="what is this?\n")
    assert proc.returncode == 0 and proc.stdout == "A diff.\n"
    assert lime.server.last.json["messages"][-1]["content"] == "what is this?"


def test_system_prompt_and_model_flag(lime: Lime) -> None:
    lime.server.enqueue(reply("ok"))
    proc = lime.run("--model", "other-model", "--system", "Be terse.", "--reasoning", "high", "--max-tokens", "77",
                    "-p", "hi")
    assert proc.returncode == 0, proc.stderr
    body = lime.server.last.json
    assert body["model"] == "other-wire"
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 77 and body["reasoning_effort"] == "high"
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("You are lime")
    assert system["content"].endswith("\n\nBe terse.")  # --system is the last layer


def test_json_output(lime: Lime) -> None:
    lime.server.enqueue(text_stream("The answer is 4.", chunks=3))
    proc = lime.run("--json", "-p", "2+2?")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["text"] == "The answer is 4."
    assert data["model"] == "fake-model"
    assert data["route"] == {"service": "fake", "base_url": lime.server.base_url, "wire_model": "fake-model"}
    assert data["tool_calls"] == []
    assert data["usage"]["estimated"] is False and data["usage"]["completion_tokens"] > 0
    assert data["session"] == lime.sessions()[0].stem


def test_an_answer_cut_at_the_token_limit_is_flagged(lime: Lime) -> None:
    lime.server.enqueue(reply("The beginning of a long", finish_reason="length"))
    proc = lime.run("--max-tokens", "5", "-p", "write an essay")
    assert proc.returncode == 0 and proc.stdout == "The beginning of a long\n"
    assert "stopped at the output token limit (--max-tokens)" in proc.stderr


def test_json_output_marks_estimated_usage(lime: Lime) -> None:
    lime.server.enqueue(reply("no usage from this server", usage=None))
    data = json.loads(lime.run("--output-format", "json", "-p", "hi").stdout)
    assert data["usage"]["estimated"] is True and data["usage"]["prompt_tokens"] > 0


def test_stream_json_emits_events_then_a_result(lime: Lime) -> None:
    lime.server.enqueue(text_stream("one two three", chunks=3))
    proc = lime.run("--output-format", "stream-json", "-p", "count")
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[0]["type"] == "start" and events[0]["model"] == "fake-model"
    assert "".join(e["text"] for e in events if e["type"] == "text") == "one two three"
    assert events[-1]["type"] == "result" and events[-1]["text"] == "one two three"


def test_failures_are_one_line_and_non_zero(lime: Lime) -> None:
    lime.server.enqueue(error(401, {"error": {"message": f"Incorrect API key provided: {KEY}"}}))
    proc = lime.run("-p", "hi")
    assert proc.returncode != 0 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("lime: error:")
    proc = lime.run("--model", "no-such-model", "-p", "hi")
    assert proc.returncode != 0 and "unknown model" in proc.stderr
    proc = lime.run("--json", "-p", "hi")  # the script is empty: the server answers 500
    assert proc.returncode != 0 and "error" in json.loads(proc.stdout)
    proc = lime.run("-p", "")
    assert proc.returncode == 2 and "empty prompt" in proc.stderr
    proc = lime.run("--json", "--model", "no-such-model", "-p", "hi")
    assert proc.returncode != 0 and "unknown model" in json.loads(proc.stdout)["error"]


def test_reasoning_refused_on_a_model_that_does_not_take_it(lime: Lime) -> None:
    proc = lime.run("--reasoning", "high", "-p", "hi")
    assert proc.returncode == 2 and "does not take a reasoning level" in proc.stderr
    proc = lime.run("--verbosity", "low", "-p", "hi")
    assert proc.returncode == 2 and "does not take a verbosity setting" in proc.stderr
    proc = lime.run("--model", "other-model", "--reasoning", "extreme", "-p", "hi")
    assert proc.returncode == 2 and "choose from low, medium, high" in proc.stderr
    assert lime.server.requests == []


def test_continue_and_resume(lime: Lime) -> None:
    lime.server.enqueue(reply("first answer"), reply("second answer"), reply("third answer"))
    assert lime.run("-p", "first question").returncode == 0
    assert lime.run("-c", "-p", "second question").returncode == 0
    assert [m["content"] for m in chat(lime.server.last.json["messages"])] == [
        "first question", "first answer", "second question"]
    sid = lime.sessions()[0].stem
    proc = lime.run("--resume", sid[:12], "-p", "third question")
    assert proc.returncode == 0, proc.stderr
    assert len(chat(lime.server.last.json["messages"])) == 5
    proc = lime.run("--resume", "nope", "-p", "x")
    assert proc.returncode != 0 and "no session matches" in proc.stderr


def test_output_schema_validates_and_repairs_once(lime: Lime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}))
    lime.server.enqueue(reply("Sure! n is four"), reply('```json\n{"n": 4}\n```'))
    proc = lime.run("--output-schema", str(schema), "-p", "give n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"n": 4}
    first, second = lime.server.chat_requests
    assert "JSON Schema" in first.json["messages"][-1]["content"]
    assert "does not conform" in second.json["messages"][-1]["content"]
    lime.server.enqueue(reply("nope"), reply('{"n": "four"}'))
    proc = lime.run("--output-schema", str(schema), "-p", "give n")
    assert proc.returncode == 1 and "does not match --output-schema" in proc.stderr


def test_output_schema_uses_response_format_where_supported(lime: Lime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "required": ["ok"]}))
    lime.run("login", "--provider", "openai", "--with-api-key", "--with-base-url", lime.server.base_url,
             input="sk-openai-e2e-000000000\n")
    lime.server.enqueue(reply('{"ok": true}'))
    proc = lime.run("--model", "gpt-4o-mini", "--output-schema", str(schema), "--json", "-p", "x")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["structured"] == {"ok": True}
    assert lime.server.last.path.endswith("/responses")  # OpenAI's models speak the Responses API
    assert lime.server.last.json["text"]["format"]["type"] == "json_schema"


def test_sessions_live_in_a_trusted_projects_dot_lime_when_there_is_one(lime: Lime) -> None:
    (lime.cwd / ".git").mkdir()
    (lime.cwd / ".lime").mkdir()
    sub = lime.cwd / "pkg"
    sub.mkdir()
    lime.server.enqueue(reply("in project"), reply("again"))
    lime.cwd = sub
    assert lime.run("--trust", "-p", "hi").returncode == 0
    (path,) = (lime.cwd.parent / ".lime" / "sessions").glob("*.jsonl")
    assert lime.sessions() == []
    assert lime.run("--trust", "-c", "-p", "more").returncode == 0
    assert [m["content"] for m in chat(lime.server.last.json["messages"])] == ["hi", "in project", "more"]
    assert path.read_text().count('"type":"message"') == 5  # with the system prompt


def test_a_failed_turn_is_recorded_so_two_user_messages_never_follow(lime: Lime) -> None:
    lime.server.enqueue(error(500, {"error": {"message": "upstream exploded"}}), reply("fine now"))
    proc = lime.run("-p", "first question")
    assert proc.returncode != 0 and "upstream exploded" in proc.stderr
    proc = lime.run("-c", "-p", "second question")
    assert proc.returncode == 0, proc.stderr
    sent = chat(lime.server.last.json["messages"])
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert "no answer" in sent[1]["content"] and "upstream exploded" in sent[1]["content"]


def test_a_tool_call_cut_at_the_output_limit_is_asked_again_with_the_upper_cap(lime: Lime) -> None:
    """A write_file whose content did not fit the default cap arrives with half its arguments: it
    is not run; the request goes again once with the entry's upper cap (Lime's retry cap), and
    the tool runs on the whole call. The cut request's tokens still count."""
    lime.add_model("capped", max_output=1000, upper_max_output=4000, supports_tools=True, supports_include_usage=True)
    usage = {"prompt_tokens": 50, "completion_tokens": 1000, "total_tokens": 1050}
    lime.server.enqueue(
        reply("", tool_calls=[("write_file", '{"path": "big.txt", "content": "line 1\\nline 2\\nli')],
              finish_reason="length", usage=usage),
        reply("", tool_calls=[("write_file", {"path": "big.txt", "content": "line 1\nline 2\nline 3\n"})],
              usage=usage),
        reply("Written.", usage=usage))
    proc = lime.run("-m", "capped", "--permission-mode", "acceptEdits", "--json", "-p", "write big.txt")
    assert proc.returncode == 0, proc.stderr
    assert "a tool call was cut off at the output token limit; asking again with room for 4,000 tokens" in proc.stderr
    assert (lime.cwd / "big.txt").exists(), proc.stderr + proc.stdout
    assert (lime.cwd / "big.txt").read_text() == "line 1\nline 2\nline 3\n"
    first, again, final = lime.server.chat_requests[-3:]
    assert "max_tokens" not in first.json and "max_completion_tokens" not in first.json  # the server's default
    assert again.json.get("max_tokens", again.json.get("max_completion_tokens")) == 4000
    assert "max_tokens" not in final.json and "max_completion_tokens" not in final.json  # only that once
    data = json.loads(proc.stdout)
    assert data["requests"] == 3 and data["usage"]["completion_tokens"] == 3000
    # The history holds the whole call only: the cut one was never answered or kept.
    calls = [m for m in final.json["messages"] if m.get("tool_calls")]
    assert len(calls) == 1 and "line 3" in calls[0]["tool_calls"][0]["function"]["arguments"]


def test_a_cut_tool_call_is_not_retried_under_an_explicit_max_tokens(lime: Lime) -> None:
    lime.add_model("capped", max_output=1000, upper_max_output=4000, supports_tools=True)
    lime.server.enqueue(reply("", tool_calls=[("write_file", '{"path": "x.txt", "cont')], finish_reason="length"),
                        reply("I could not finish the call."))
    proc = lime.run("-m", "capped", "--max-tokens", "20", "--permission-mode", "acceptEdits", "-p", "write x.txt")
    assert proc.returncode == 0, proc.stderr
    assert "asking again" not in proc.stderr and not (lime.cwd / "x.txt").exists()
    assert all(r.json.get("max_tokens") == 20 for r in lime.server.chat_requests)


def test_a_tool_call_cut_again_at_the_upper_cap_is_not_asked_for_a_third_time(lime: Lime) -> None:
    """A model that overruns every cap gets one retry per answer, not a loop: the call still cut
    is answered with an error and never run."""
    lime.add_model("capped", max_output=1000, upper_max_output=4000, supports_tools=True)
    cut = [("write_file", '{"path": "y.txt", "content": "never end')]
    lime.server.enqueue(reply("", tool_calls=cut, finish_reason="length"),
                        reply("", tool_calls=cut, finish_reason="length"),
                        reply("Gave up."))
    proc = lime.run("-m", "capped", "--permission-mode", "acceptEdits", "-p", "write y.txt")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("asking again with room for 4,000 tokens") == 1
    assert not (lime.cwd / "y.txt").exists()
    assert len(lime.server.chat_requests) == 3 and proc.stdout.strip() == "Gave up."
    tool = [m for m in lime.server.last.json["messages"] if m["role"] == "tool"]
    assert len(tool) == 1 and "error" in tool[0]["content"].lower()
