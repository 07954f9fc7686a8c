"""What a LiteLLM proxy and llama-cpp-python's server answer, through the ``lime`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.fakeserver import ErrorResponse, reply

from .conftest import KEY, Lime
from .test_endpoints_e2e import login, ok, one_line_error

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
