"""What a LiteLLM proxy and llama-cpp-python's server answer, through the ``lime`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.fakeserver import (
    ErrorResponse,
    litellm_messages_stream,
    litellm_no_db,
    litellm_no_key,
    litellm_responses_stream,
    reply,
)

from .conftest import KEY, Lime
from .test_endpoints_e2e import login, ok, one_line_error
from .test_wires_e2e import use

# LiteLLM's answer to a key that is not its master key when it runs without a key database.
NO_DB = ErrorResponse(400, {"error": {"message": "Authentication Error, No connected db.", "type": "auth_error",
                                      "param": "None", "code": "400"}})


def litellm(lime: Lime, models: dict[str, dict[str, Any]]) -> None:
    """A LiteLLM proxy whose /model/info carries supported_openai_params, flags null."""
    lime.server.models = list(models)
    lime.server.route("GET", "/v1/models", {"object": "list", "data": [
        {"id": m, "object": "model", "created": 1677610602, "owned_by": "openai"} for m in models]})
    lime.server.route("GET", "/model/info", {"data": [
        {"model_name": name, "litellm_params": {"model": f"openai/{name}"},
         "model_info": {"id": f"{n:032x}", "key": name, "mode": info.get("mode", "chat"),
                        "max_input_tokens": info.get("max_input_tokens"), "supports_function_calling": None,
                        "supports_response_schema": None, "supports_reasoning": None,
                        "supported_openai_params": info.get("params")}}
        for n, (name, info) in enumerate(models.items())]})


def entry(lime: Lime, slug: str) -> dict[str, Any]:
    doc = json.loads(Path(lime.env["LIME_MODELS_FILE"]).read_text())
    return next(m for m in doc["models"] if m["slug"] == slug)


def test_supported_openai_params_count_as_capabilities(lime: Lime) -> None:
    litellm(lime, {"qwen": {"max_input_tokens": 8192,
                            "params": ["temperature", "tools", "tool_choice", "response_format", "reasoning_effort"]},
                   "plain": {"max_input_tokens": 8192, "params": ["temperature", "max_tokens"]},
                   "embed": {"max_input_tokens": 8192, "mode": "embedding", "params": []}})
    ok(login(lime, "litellm", lime.server.root_url, key=KEY))
    for slug in ("qwen", "plain"):
        ok(lime.run("model", "add", "--slug", slug, "--provider", "openai-compat", "--service", "litellm",
                    "--discover"))
    qwen, plain = entry(lime, "qwen"), entry(lime, "plain")
    assert qwen["supports_tools"] is True and qwen["supports_response_format"] is True
    assert qwen["supports_reasoning_effort"] is True
    assert plain["supports_tools"] is False and plain["supports_response_format"] is False
    one_line_error(lime.run("model", "add", "--slug", "embed", "--provider", "openai-compat", "--service",
                            "litellm", "--discover"), "embedding model")


def test_key_errors_get_key_hints_only(lime: Lime) -> None:
    litellm(lime, {"qwen": {"max_input_tokens": 8192}})
    ok(login(lime, "litellm", lime.server.root_url, key=KEY))
    for path in ("/v1/models", "/model/info", "/v1/model/info", "/models"):  # every proxy endpoint refuses the key
        lime.server.route("GET", path, NO_DB)
    line = one_line_error(lime.run("model", "add", "--slug", "qwen", "--provider", "openai-compat", "--service",
                                   "litellm", "--discover"), "No connected db", "key")
    assert "--context-window" not in line
    lime.add_model("proxied", service="fake")  # no tools: the note waits for an answer, never beside an error
    lime.server.enqueue(NO_DB)
    line = one_line_error(lime.run("--model", "proxied", "-p", "hi"), "No connected db", "master key")
    assert "--context-window" not in line


def test_no_tools_note_is_said_once_per_model(lime: Lime) -> None:
    lime.add_model("toolless", service="fake")
    lime.server.enqueue(reply("I listed the files: a.py b.py"), reply("again"), reply("other"))
    first = ok(lime.run("--model", "toolless", "-p", "list files"))
    assert "tools are not offered" in first.stderr and "cannot read or change files" in first.stderr
    assert first.stdout == "I listed the files: a.py b.py\n"  # said beside the answer it explains
    assert "tools are not offered" not in ok(lime.run("--model", "toolless", "-p", "list files")).stderr
    assert "tools are not offered" in ok(lime.run("--model", "other-model", "-p", "hi")).stderr


# The real proxy's answers (LiteLLM 1.108, tests/realserver/test_litellm.py runs it), byte for byte.
LOGINS = {"openai-compat": "lime login --provider openai-compat --service litellm --with-api-key",
          "anthropic": "lime login --provider anthropic --with-api-key",
          "openai": "lime login --provider openai --with-api-key"}


@pytest.mark.parametrize("provider", list(LOGINS))
def test_refused_key_on_each_wire_says_why_and_keeps_the_proxy_address(lime: Lime, provider: str) -> None:
    if provider == "openai-compat":
        ok(login(lime, "litellm", lime.server.base_url, key=KEY))
        lime.add_model("proxied", service="litellm")
        args = ["--model", "proxied"]
    else:
        use(lime, provider)  # lime login --provider NAME --with-base-url (the proxy)
        args = []
    lime.server.enqueue(litellm_no_db())
    line = one_line_error(lime.run(*args, "-p", "hi"), "the key was refused (HTTP 400): No connected db: the LiteLLM "
                          "proxy keeps no key database, so it accepts only its master key")
    # the login that replaces the key repeats the proxy's address: a login without it would send
    # the next key to the public API (a preset) or be refused (a service of the user's own)
    assert line.endswith(f"(run: {LOGINS[provider]} --with-base-url {lime.server.base_url})")


@pytest.mark.parametrize("provider", list(LOGINS))
def test_a_proxy_that_wants_a_key_and_got_none(lime: Lime, provider: str) -> None:
    """LiteLLM answers a request without a key with a bare 500: lime says that it sent none."""
    if provider == "openai-compat":
        ok(login(lime, "litellm", lime.server.base_url))  # an endpoint, no key
        lime.add_model("proxied", service="litellm")
        args = ["--model", "proxied"]
    else:
        ok(lime.run("login", "--provider", provider, "--with-base-url", lime.server.base_url))
        lime.env["LIME_MODEL"] = {"anthropic": "claude-sonnet-4-6", "openai": "gpt-5.4"}[provider]
        args = []
    lime.server.enqueue(litellm_no_key())
    line = one_line_error(lime.run(*args, "-p", "hi"), "server error (HTTP 500): Internal Server Error",
                          "lime sent no key", "the LiteLLM proxy does")
    assert line.endswith(f"if it wants one, run: {LOGINS[provider]} --with-base-url {lime.server.base_url})")
    assert "authorization" not in lime.server.last.headers and "x-api-key" not in lime.server.last.headers


def test_a_bare_500_to_a_request_with_a_key_gets_no_key_hint(lime: Lime) -> None:
    use(lime, "openai")
    lime.server.enqueue(litellm_no_key())
    assert "key" not in one_line_error(lime.run("-p", "hi"), "server error (HTTP 500)").split("Internal Server Error")[1]


def test_refused_key_on_import_says_why(lime: Lime) -> None:
    ok(login(lime, "litellm", lime.server.base_url, key=KEY))
    for path in ("/v1/models", "/model/info", "/v1/model/info", "/models"):
        lime.server.route("GET", path, litellm_no_db())
    line = one_line_error(lime.run("model", "import", "litellm"), "/v1/models answered HTTP 400: No connected db: "
                          "the LiteLLM proxy keeps no key database", "check the key")
    assert "db.:" not in line


def test_login_hint_of_a_preset_at_its_own_address_has_no_url(lime: Lime) -> None:
    lime.env["LIME_MODEL"] = "claude-sonnet-4-6"
    line = one_line_error(lime.run("-p", "hi"), "no API key")
    assert "lime login --provider anthropic --with-api-key" in line and "--with-base-url" not in line


def test_proxy_messages_stream(lime: Lime) -> None:
    use(lime, "anthropic")
    lime.server.enqueue(litellm_messages_stream(["I", "'m", " glad", " to", " help"], input_tokens=1, cache_read=31))
    out = json.loads(ok(lime.run("--json", "-p", "hi")).stdout)
    assert out["text"] == "I'm glad to help"
    usage = out["usage"]
    assert usage["prompt_tokens"] == 32 and usage["cache_read_tokens"] == 31 and usage["completion_tokens"] == 5
    assert usage["estimated"] is False


def test_proxy_responses_stream(lime: Lime) -> None:
    use(lime, "openai")
    lime.server.enqueue(litellm_responses_stream(["Hello", " there", "!"], input_tokens=32, cached=31))
    proc = ok(lime.run("--output-format", "stream-json", "-p", "hi"))
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    pieces = [e["text"] for e in events if e["type"] == "text"]
    assert len(pieces) > 1 and "".join(pieces) == "Hello there!" == events[-1]["text"]
    usage = events[-1]["usage"]
    assert usage["prompt_tokens"] == 32 and usage["cached_tokens"] == 31 and usage["completion_tokens"] == 3
