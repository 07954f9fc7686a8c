"""The native wires through the ``lime`` command: Anthropic Messages, OpenAI Responses and Gemini,
each registered as a user would (``lime login --provider NAME --with-base-url``), against the fake
server speaking that wire's documented events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.fakeserver import reply, tool_call_stream
from support.wires import ENCRYPTED, SIGNATURE, THOUGHT_SIGNATURE, anthropic_error, anthropic_sse

from .conftest import KEY, Lime

PROVIDERS = {"anthropic": "claude-sonnet-4-6", "openai": "gpt-5.4", "gemini": "gemini-2.5-flash"}


def use(lime: Lime, provider: str) -> str:
    """Point the provider's bucket at the fake server; the built-in model of that provider."""
    subprocess.run([sys.executable, "-m", "lime", "login", "--provider", provider, "--with-api-key",
                    "--with-base-url", lime.server.base_url], input=KEY + "\n", text=True, env=lime.env,
                   check=True, capture_output=True)
    lime.env["LIME_MODEL"] = PROVIDERS[provider]
    return PROVIDERS[provider]


def sent(lime: Lime) -> list[dict[str, Any]]:
    return [r.json for r in lime.server.chat_requests]


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_one_shot_streams_the_answer(lime: Lime, provider: str) -> None:
    use(lime, provider)
    lime.server.enqueue(reply("Hello from the wire, héllo ✓", chunks=4))
    proc = lime.run("-p", "hi")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello from the wire, héllo ✓\n"
    req = lime.server.chat_requests[-1]
    if provider == "anthropic":
        assert req.path == "/v1/messages"
        assert req.headers["x-api-key"] == KEY and "authorization" not in req.headers
        assert req.headers["anthropic-version"] == "2023-06-01"
        assert req.json["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
        if "system" in req.json:
            assert req.json["system"][-1]["cache_control"] == {"type": "ephemeral"}
        if "tools" in req.json:
            assert req.json["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    elif provider == "openai":
        assert req.path == "/v1/responses"
        assert req.json["store"] is False and req.json["input"][-1] == {"type": "message", "role": "user",
                                                                            "content": "hi"}
        assert req.headers["authorization"] == f"Bearer {KEY}"
    else:
        assert req.path == "/v1/models/gemini-2.5-flash:streamGenerateContent" and req.query == "alt=sse"
        assert req.headers["x-goog-api-key"] == KEY and "authorization" not in req.headers
        assert req.json["contents"][-1] == {"role": "user", "parts": [{"text": "hi"}]}


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_a_two_step_tool_task(lime: Lime, provider: str) -> None:
    use(lime, provider)
    (lime.cwd / "notes.txt").write_text("the answer is 42\n")
    lime.server.enqueue(tool_call_stream([("read_file", {"path": "notes.txt"})]), reply("It says 42."))
    proc = lime.run("-p", "what do the notes say?")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "It says 42.\n" and "● read_file notes.txt" in proc.stderr
    second = sent(lime)[1]
    if provider == "anthropic":
        call, result = second["messages"][-2], second["messages"][-1]
        assert call["role"] == "assistant" and call["content"][-1]["type"] == "tool_use"
        assert call["content"][-1]["input"] == {"path": "notes.txt"}
        assert result["content"][0]["type"] == "tool_result" and "the answer is 42" in result["content"][0]["content"]
    elif provider == "openai":
        call, result = second["input"][-2], second["input"][-1]
        assert call["type"] == "function_call" and json.loads(call["arguments"]) == {"path": "notes.txt"}
        assert result["type"] == "function_call_output" and result["call_id"] == call["call_id"]
        assert "the answer is 42" in result["output"]
    else:
        call, result = second["contents"][-2], second["contents"][-1]
        assert call["parts"][0]["functionCall"] == {"name": "read_file", "args": {"path": "notes.txt"}}
        assert call["parts"][0]["thoughtSignature"] == THOUGHT_SIGNATURE
        assert result["parts"][0]["functionResponse"]["name"] == "read_file"


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_reasoning_state_survives_a_saved_and_resumed_session(lime: Lime, provider: str) -> None:
    use(lime, provider)
    (lime.cwd / "notes.txt").write_text("x\n")
    lime.server.enqueue(tool_call_stream([("read_file", {"path": "notes.txt"})], reasoning="let me look"),
                        reply("done", reasoning="it is x"), reply("again"))
    assert lime.run("--reasoning-effort", "high", "-p", "look").returncode == 0
    proc = lime.run("--reasoning-effort", "high", "-c", "-p", "and now?")
    assert proc.returncode == 0, proc.stderr
    first, second, resumed = sent(lime)
    if provider == "anthropic":
        assert first["thinking"] == {"type": "adaptive"} and first["output_config"] == {"effort": "high"}
        assert first["max_tokens"] > 16384
        thinking = [b for m in resumed["messages"] for b in m["content"] if b["type"] == "thinking"]
        assert [b["signature"] for b in thinking] == [SIGNATURE, SIGNATURE]
        assert thinking[0]["thinking"] == "let me look"
    elif provider == "openai":
        assert first["reasoning"] == {"effort": "high", "summary": "auto"}
        assert first["include"] == ["reasoning.encrypted_content"]
        kept = [i for i in resumed["input"] if i.get("type") == "reasoning"]
        assert [i["encrypted_content"] for i in kept] == [ENCRYPTED, ENCRYPTED]
    else:
        assert first["generationConfig"]["thinkingConfig"]["includeThoughts"] is True
        signed = [p for c in resumed["contents"] for p in c["parts"] if "thoughtSignature" in p]
        assert len(signed) == 2


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_output_schema(lime: Lime, provider: str, tmp_path: Path) -> None:
    use(lime, provider)
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}))
    if provider == "anthropic":
        lime.server.enqueue(tool_call_stream([("structured_output", {"n": 4})]))
    else:
        lime.server.enqueue(reply('{"n": 4}'))
    proc = lime.run("--output-schema", str(schema), "-p", "give n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"n": 4}
    body = sent(lime)[0]
    if provider == "anthropic":
        assert body["tool_choice"] == {"type": "any"}  # beside lime's tools: some tool, the answer last
        assert body["tools"][-1]["input_schema"]["required"] == ["n"]
    elif provider == "openai":
        assert body["text"]["format"]["type"] == "json_schema"
        assert body["text"]["format"]["schema"]["required"] == ["n"]
    else:
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        assert body["generationConfig"]["responseSchema"]["required"] == ["n"]


def test_anthropic_cache_tokens_in_json_usage(lime: Lime) -> None:
    use(lime, "anthropic")
    lime.server.enqueue(reply("cached", usage={"input_tokens": 10, "cache_creation_input_tokens": 300,
                                               "cache_read_input_tokens": 1200, "output_tokens": 5}))
    proc = lime.run("--json", "-p", "hi")
    assert proc.returncode == 0, proc.stderr
    usage = json.loads(proc.stdout)["usage"]
    assert usage["prompt_tokens"] == 1510 and usage["completion_tokens"] == 5
    assert usage["cache_read_tokens"] == 1200 and usage["cache_write_tokens"] == 300
    assert usage["estimated"] is False
    status = lime.run("status").stdout  # the session's totals keep them too
    assert "prompt cache: 1,200 read, 300 written" in status


def test_anthropic_overloaded_is_retried_like_503(lime: Lime) -> None:
    use(lime, "anthropic")
    lime.server.enqueue(anthropic_error(529, "overloaded_error", "Overloaded"), reply("fine now"))
    proc = lime.run("-p", "hi", LIME_MAX_RETRIES="2", LIME_RETRY_BASE="0.01")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "fine now\n"


def test_anthropic_error_mid_stream_is_one_line(lime: Lime) -> None:
    use(lime, "anthropic")
    lime.server.enqueue(anthropic_sse([
        ("message_start", {"message": {"id": "m", "model": "x", "content": [], "usage": {"input_tokens": 3}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "partial "}}),
        ("error", {"error": {"type": "api_error", "message": "Internal server error"}}),
    ]))
    proc = lime.run("-p", "hi")
    assert proc.returncode != 0
    assert "Internal server error" in proc.stderr and proc.stderr.count("\n") <= 3


def test_login_refuses_service_with_native_provider(lime: Lime) -> None:
    proc = lime.run("login", "--provider", "anthropic", "--service", "x", "--with-base-url", "http://127.0.0.1:9/v1")
    assert proc.returncode != 0 and "--service is only accepted" in proc.stderr


def test_aliases_and_gemini_wire_ids_resolve(lime: Lime) -> None:
    use(lime, "gemini")
    lime.server.enqueue(reply("ok"), reply("ok"))
    assert lime.run("--model", "flash", "-p", "hi").returncode == 0
    assert lime.run("--model", "gemini-2.5-pro-preview-03-25", "-p", "hi").returncode == 0
    paths = [r.path for r in lime.server.chat_requests]
    assert paths == ["/v1/models/gemini-2.5-flash:streamGenerateContent",
                     "/v1/models/gemini-2.5-pro-preview-03-25:streamGenerateContent"]


def test_service_tier_goes_in_the_responses_body(lime: Lime) -> None:
    use(lime, "openai")
    lime.server.enqueue(reply("ok"))
    assert lime.run("--service-tier", "flex", "-p", "hi").returncode == 0
    assert sent(lime)[0]["service_tier"] == "flex"
    proc = lime.run("--service-tier", "turbo", "-p", "hi")
    assert proc.returncode == 2 and "--service-tier must be one of" in proc.stderr


@pytest.mark.parametrize(("provider", "api"), [("anthropic", "Anthropic Messages"), ("openai", "OpenAI Responses"),
                                               ("gemini", "Gemini generateContent")])
def test_status_names_the_api(lime: Lime, provider: str, api: str) -> None:
    use(lime, provider)
    out = lime.run("status").stdout
    assert "API:" in out and api in out and KEY not in out


def test_anthropic_pause_turn_is_continued(lime: Lime) -> None:
    use(lime, "anthropic")
    lime.server.enqueue(reply("Working on it", finish_reason="pause_turn"), reply(" and done."))
    proc = lime.run("-p", "long task")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("and done.\n")
    again = sent(lime)[1]["messages"]
    assert again[-1]["role"] == "assistant" and again[-1]["content"][0]["text"] == "Working on it"


def test_anthropic_refusal_is_said(lime: Lime) -> None:
    use(lime, "anthropic")
    lime.server.enqueue(reply("I can't help with that.", finish_reason="refusal"))
    proc = lime.run("-p", "something bad")
    assert proc.returncode == 0 and "content filter" in proc.stderr


def test_anthropic_output_schema_after_using_a_tool_and_forced_without_tools(lime: Lime, tmp_path: Path) -> None:
    use(lime, "anthropic")
    (lime.cwd / "n.txt").write_text("7\n")
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}))
    lime.server.enqueue(tool_call_stream([("read_file", {"path": "n.txt"})]),
                        tool_call_stream([("structured_output", {"n": 7})]),
                        tool_call_stream([("structured_output", {"n": 8})]))
    proc = lime.run("--output-schema", str(schema), "-p", "what number is in n.txt?")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"n": 7}
    result = sent(lime)[1]["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and "7" in result["content"]
    proc = lime.run("--no-tools", "--output-schema", str(schema), "-p", "a number")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"n": 8}
    assert sent(lime)[-1]["tool_choice"] == {"type": "tool", "name": "structured_output"}
