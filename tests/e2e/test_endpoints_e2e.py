"""The endpoints users actually run, driven through the real ``lime`` command: Ollama, LM Studio,
vLLM and a LiteLLM proxy described by their own discovery endpoints, an Azure-style deployment
(``api-key`` header, ``api-version`` query) and a gateway that checks its own headers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from support.fakeserver import (
    FakeServer,
    as_litellm,
    as_lmstudio,
    as_ollama,
    as_vllm,
    error,
    reply,
    think_reply,
    tool_call_stream,
)

from .conftest import KEY, Lime


def login(lime: Lime, service: str, base_url: str, *extra: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    args = ["login", "--provider", "openai-compat", "--service", service, "--with-base-url", base_url, *extra]
    if key is not None:
        args.append("--with-api-key")
    return lime.run(*args, input=(key + "\n") if key is not None else None)


def models(lime: Lime) -> dict[str, dict[str, Any]]:
    doc = json.loads(Path(lime.env["LIME_MODELS_FILE"]).read_text())
    return {m["slug"]: m for m in doc["models"]}


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    return proc


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("lime: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


OLLAMA_MODELS = {
    "qwen3:8b": {"capabilities": ["completion", "tools", "thinking"], "context_length": 40960, "arch": "qwen3"},
    "llama3.2:3b": {"capabilities": ["completion", "tools"], "num_ctx": 8192, "context_length": 131072},
    "gemma3:4b": {"capabilities": ["completion", "vision"], "context_length": 131072, "arch": "gemma3"},
    "nomic-embed-text:latest": {"capabilities": ["embedding"], "context_length": 2048, "arch": "nomic-bert"},
}


def test_ollama_import_reads_capabilities_and_windows(lime: Lime) -> None:
    as_ollama(lime.server, OLLAMA_MODELS, loaded={"gemma3:4b": 16384})
    ok(login(lime, "ollama", lime.server.base_url))
    dry = ok(lime.run("model", "import", "ollama", "--dry-run"))
    assert "qwen3:8b" in dry.stdout and "dry run" in dry.stdout
    assert "nomic-embed-text:latest: skipped (not a chat model)" in dry.stderr
    assert "qwen3:8b: context window 4,096 from Ollama's default num_ctx" in dry.stderr
    assert not Path(lime.env["LIME_MODELS_FILE"]).read_text().count("qwen3")  # nothing written
    ok(lime.run("model", "import", "ollama"))
    got = models(lime)
    qwen, llama, gemma = got["qwen3:8b"], got["llama3.2:3b"], got["gemma3:4b"]
    assert "nomic-embed-text:latest" not in got
    # no num_ctx and not loaded: Ollama's default, with the trained window recorded
    assert qwen["context_window"] == 4096 and qwen["trained_context_window"] == 40960
    assert qwen["supports_tools"] is True and qwen["supports_reasoning_effort"] is True
    assert qwen["param_preset"] == "reasoning_only" and qwen["supports_response_format"] is True
    assert llama["context_window"] == 8192 and llama["supports_reasoning_effort"] is False
    assert gemma["context_window"] == 16384 and gemma["supports_vision"] is True and gemma["supports_tools"] is False
    shows = [r.json["model"] for r in lime.server.requests if r.path == "/api/show"]
    assert sorted(shows) == sorted(list(OLLAMA_MODELS) * 2)  # the dry run asked too

    # a one-shot with a tool call on the thinking model: tools and reasoning effort both go out
    (lime.cwd / "a.txt").write_text("alpha\n")
    lime.server.enqueue(tool_call_stream([("read_file", {"path": "a.txt"})]), reply("It says alpha."))
    proc = ok(lime.run("--model", "qwen3:8b", "--reasoning-effort", "high", "-p", "what is in a.txt?"))
    assert proc.stdout == "It says alpha.\n"
    first = lime.server.chat_requests[0].json
    assert first["model"] == "qwen3:8b" and first["reasoning_effort"] == "high" and first["tools"]
    # a model that did not advertise thinking never gets reasoning_effort
    lime.server.enqueue(reply("hi"))
    one_line_error(lime.run("--model", "llama3.2:3b", "--reasoning-effort", "high", "-p", "hi"), "reasoning")
    ok(lime.run("--model", "llama3.2:3b", "-p", "hi"))
    assert "reasoning_effort" not in lime.server.last.json


def test_ollama_discover_one_model_and_refuse_an_unlisted_one(lime: Lime) -> None:
    as_ollama(lime.server, OLLAMA_MODELS)
    ok(login(lime, "ollama", lime.server.base_url))
    proc = ok(lime.run("model", "add", "--slug", "qwen", "--provider", "openai-compat", "--service", "ollama",
                       "--api-id", "qwen3:8b", "--discover"))
    assert "OLLAMA_CONTEXT_LENGTH" in proc.stderr  # says where the 4096 came from and how to raise it
    assert models(lime)["qwen"]["context_window"] == 4096
    proc = lime.run("model", "add", "--slug", "q", "--provider", "openai-compat", "--service", "ollama",
                    "--api-id", "qwen3:4b", "--discover")
    one_line_error(proc, "does not list a model 'qwen3:4b'", "qwen3:8b")
    one_line_error(lime.run("model", "import", "ollama", "qwen3"), "did you mean", "qwen3:8b")
    assert set(models(lime)) == {"fake-model", "other-model", "qwen"}


def test_lmstudio_discover(lime: Lime) -> None:
    as_lmstudio(lime.server, [
        {"id": "qwen/qwen3-coder-30b", "type": "llm", "state": "loaded", "max_context_length": 262144,
         "loaded_context_length": 32768, "capabilities": ["tool_use"]},
        {"id": "google/gemma-3-12b", "type": "vlm", "max_context_length": 131072},
        {"id": "text-embedding-nomic-embed-text-v1.5", "type": "embeddings", "max_context_length": 2048},
    ])
    ok(login(lime, "lmstudio", lime.server.base_url))
    ok(lime.run("model", "add", "--slug", "coder", "--provider", "openai-compat", "--service", "lmstudio",
                "--api-id", "qwen/qwen3-coder-30b", "--discover"))
    coder = models(lime)["coder"]
    assert coder["context_window"] == 32768 and coder["trained_context_window"] == 262144
    assert coder["supports_tools"] is True and coder["supports_reasoning_effort"] is False
    proc = ok(lime.run("model", "import", "lmstudio", "google/gemma-3-12b"))
    gemma = models(lime)["google/gemma-3-12b"]
    assert gemma["supports_vision"] is True and "supports_tools" not in gemma  # LM Studio did not say
    assert gemma["context_window"] == 131072 and "Imported 1 model" in proc.stdout
    lime.server.enqueue(reply("done"))
    ok(lime.run("--model", "coder", "-p", "hi"))
    assert lime.server.last.json["model"] == "qwen/qwen3-coder-30b" and "reasoning_effort" not in lime.server.last.json


def test_vllm_discover_window_from_max_model_len(lime: Lime) -> None:
    as_vllm(lime.server, {"Qwen/Qwen3-8B": 32768})
    ok(login(lime, "vllm", lime.server.base_url, key="sk-vllm-0123456789abcdef"))
    ok(lime.run("model", "add", "--slug", "Qwen/Qwen3-8B", "--provider", "openai-compat", "--service", "vllm",
                "--discover", "--extra-body", '{"chat_template_kwargs": {"enable_thinking": false}}'))
    entry = models(lime)["Qwen/Qwen3-8B"]
    assert entry["context_window"] == 32768 and entry["supports_response_format"] is True
    assert entry["supports_reasoning_effort"] is False and "supports_tools" not in entry
    lime.server.enqueue(reply("hello"))
    ok(lime.run("--model", "Qwen/Qwen3-8B", "-p", "hi"))
    body = lime.server.last.json
    assert body["chat_template_kwargs"] == {"enable_thinking": False} and "reasoning_effort" not in body
    assert lime.server.last.headers["authorization"] == "Bearer sk-vllm-0123456789abcdef"


LITELLM_KEY = "sk-litellm-master-0123456789"


def test_litellm_discover_from_model_info(lime: Lime) -> None:
    as_litellm(lime.server, {
        "local-qwen": {"max_input_tokens": 16384, "max_output_tokens": 4096, "supports_function_calling": True,
                       "supports_response_schema": True, "supports_reasoning": False},
        "bare": {},  # a model LiteLLM has no information about
    }, master_key=LITELLM_KEY)
    # a wrong key: the proxy's own 401, quoted, and never the key itself
    ok(login(lime, "litellm", lime.server.root_url, key="sk-wrong-key-0123456789"))
    line = one_line_error(lime.run("model", "add", "--slug", "local-qwen", "--provider", "openai-compat",
                                   "--service", "litellm", "--discover"), "HTTP 401", "Invalid proxy server token")
    assert "sk-wrong-key-0123456789" not in line
    ok(login(lime, "litellm", lime.server.root_url, key=LITELLM_KEY))
    ok(lime.run("model", "add", "--slug", "local-qwen", "--provider", "openai-compat", "--service", "litellm",
                "--discover"))
    entry = models(lime)["local-qwen"]
    assert entry["context_window"] == 16384 and entry["max_output"] == 4096
    assert entry["supports_tools"] is True and entry["supports_response_format"] is True
    one_line_error(lime.run("model", "add", "--slug", "bare", "--provider", "openai-compat", "--service", "litellm",
                            "--discover"), "no context window", "--context-window")
    ok(lime.run("model", "add", "--slug", "bare", "--provider", "openai-compat", "--service", "litellm",
                "--discover", "--context-window", "8192"))
    one_line_error(lime.run("model", "add", "--slug", "local-qwn", "--provider", "openai-compat", "--service",
                            "litellm", "--discover"), "does not list", "did you mean: local-qwen")
    # --output-schema sends response_format to a proxy that supports it
    schema = lime.cwd / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}))
    lime.server.enqueue(reply('{"n": 4}'))
    proc = ok(lime.run("--model", "local-qwen", "--output-schema", str(schema), "-p", "2+2 as n"))
    assert json.loads(proc.stdout) == {"n": 4}
    assert lime.server.last.json["response_format"]["type"] == "json_schema"


def test_discovery_errors_say_what_the_server_answered(lime: Lime, tmp_path: Path) -> None:
    with FakeServer() as other:
        other.route("GET", "/v1/models", lambda req: error(
            404, {"error": {"message": "Unknown request URL: GET /v1/models", "code": "unknown_url"}}))
        ok(login(lime, "nowhere", other.base_url))
        one_line_error(lime.run("model", "import", "nowhere"), "HTTP 404", "Unknown request URL", "/v1")
        other.route("GET", "/v1/models", lambda req: error(
            502, "<html><title>502 Bad Gateway</title></html>", content_type="text/html"))
        one_line_error(lime.run("model", "import", "nowhere"), "HTTP 502", "Bad Gateway")
        other.route("GET", "/v1/models", {"object": "list", "data": []})
        one_line_error(lime.run("model", "import", "nowhere"), "without a list of models")


AZURE_KEY = "azure0123456789abcdef0123456789ab"


def test_azure_style_deployment_key_header_and_api_version(lime: Lime) -> None:
    lime.server.require_headers = {"api-key": AZURE_KEY}
    lime.server.require_query = {"api-version": "2024-10-21"}
    base = lime.server.root_url + "/openai/deployments/gpt-4o?api-version=2024-10-21"
    ok(login(lime, "azure", base, "--auth-header", "api-key", key=AZURE_KEY))
    lime.add_model("azure-4o", service="azure", api_id="gpt-4o")
    lime.server.enqueue(reply("Hello from Azure"))
    proc = ok(lime.run("--model", "azure-4o", "-p", "hi"))
    assert proc.stdout == "Hello from Azure\n"
    req = lime.server.last
    assert req.path == "/openai/deployments/gpt-4o/chat/completions" and req.query == "api-version=2024-10-21"
    assert req.headers["api-key"] == AZURE_KEY and "authorization" not in req.headers
    shown = ok(lime.run("model", "show", "azure-4o")).stdout
    assert "key sent as api-key" in shown and AZURE_KEY not in shown
    # the same deployment without the api-version: Azure's own complaint, in one line
    ok(login(lime, "azure", lime.server.root_url + "/openai/deployments/gpt-4o", "--auth-header", "api-key",
             key=AZURE_KEY))
    one_line_error(lime.run("--model", "azure-4o", "-p", "hi"), "api-version")


def test_gateway_headers_from_the_environment_stay_unexpanded_and_masked(lime: Lime) -> None:
    secret = "gw-secret-value-0123456789"
    lime.server.require_headers = {"x-gateway-key": secret, "x-team": "blue-team"}
    proc = ok(login(lime, "gateway", lime.server.base_url, "--header", "X-Gateway-Key: ${GW_KEY}",
                    "--header", "X-Team: blue-team", key=KEY))
    assert "X-Gateway-Key: ${GW_KEY}" in proc.stdout and "X-Team: ****" in proc.stdout
    assert "blue-team" not in proc.stdout
    stored = (lime.home / "credentials.json").read_text()
    assert "${GW_KEY}" in stored and secret not in stored
    assert (lime.home / "credentials.json").stat().st_mode & 0o777 == 0o600
    lime.add_model("gw-model", service="gateway", api_id="gpt-4o-mini")
    lime.server.enqueue(reply("through the gateway"))
    proc = ok(lime.run("--model", "gw-model", "-v", "-p", "hi", GW_KEY=secret))
    assert proc.stdout == "through the gateway\n" and secret not in proc.stderr and "blue-team" not in proc.stderr
    req = lime.server.last
    assert req.headers["x-gateway-key"] == secret and req.headers["x-team"] == "blue-team"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    one_line_error(lime.run("--model", "gw-model", "-p", "hi"), "X-Gateway-Key", "${GW_KEY}", "not set")
    shown = ok(lime.run("model", "show", "gw-model")).stdout
    assert "X-Team: ****" in shown and "blue-team" not in shown
    status = ok(lime.run("status", LIME_MODEL="gw-model")).stdout
    assert "X-Gateway-Key: ${GW_KEY}" in status and "blue-team" not in status and secret not in status
    # a server that echoes the header back in an error never gets it printed
    lime.server.enqueue(lambda req: error(
        400, {"error": {"message": f"bad gateway header {req.headers['x-gateway-key']}"}}))
    proc = lime.run("--model", "gw-model", "-p", "hi", GW_KEY=secret)
    assert proc.returncode != 0 and secret not in proc.stderr + proc.stdout


def test_header_injection_is_refused(lime: Lime) -> None:
    for spec, said in (("X-A: one\r\nX-Injected: two", "line break"), ("Bad Name: v", "invalid header name"),
                       ("Host: evil.example", "cannot be overridden"), ("NoColon", "Name: value"),
                       ("Content-Length: 0", "cannot be overridden")):
        proc = login(lime, "inj", lime.server.base_url, "--header", spec)
        one_line_error(proc, said)
    # an environment variable that expands to a line break is refused at request time
    ok(login(lime, "inj", lime.server.base_url, "--header", "X-A: ${EVIL}"))
    lime.add_model("inj-model", service="inj")
    one_line_error(lime.run("--model", "inj-model", "-p", "hi", EVIL="a\r\nX-Injected: yes"), "line break")
    assert lime.server.chat_requests == []
    proc = login(lime, "inj2", lime.server.base_url, "--header", "Authorization: Bearer x", key=KEY)
    one_line_error(proc, "would carry the key")


def test_lessons_are_listed_forgotten_and_keyed_by_endpoint(lime: Lime) -> None:
    lime.server.use_profile("azure")  # refuses stream_options
    lime.server.enqueue(reply("one"), reply("two"), reply("three"))
    ok(lime.run("-p", "hi"))
    assert [("stream_options" in r.json) for r in lime.server.chat_requests] == [True, False]
    shown = ok(lime.run("model", "show", "fake-model")).stdout
    assert "not sending 'stream_options'" in shown and "lime model forget fake-model" in shown
    proc = ok(lime.run("-v", "-p", "hi"))
    assert proc.stderr.count("not sending 'stream_options'") == 1
    assert "stream_options" not in lime.server.last.json
    proc = ok(lime.run("model", "forget", "fake-model"))
    assert "Forgot 1 lesson" in proc.stdout
    assert "learned from this endpoint: nothing" in ok(lime.run("model", "show", "fake-model")).stdout
    lime.server.use_profile(None)  # a server that accepts the field gets it again
    ok(lime.run("-p", "hi"))
    assert lime.server.last.json["stream_options"] == {"include_usage": True}


def test_reasoning_effort_spelling(lime: Lime) -> None:
    lime.server.enqueue(reply("a"), reply("b"))
    ok(lime.run("--model", "other-model", "--reasoning-effort", "low", "-p", "hi"))
    assert lime.server.last.json["reasoning_effort"] == "low"
    ok(lime.run("--model", "other-model", "--reasoning", "high", "-p", "hi"))
    assert lime.server.last.json["reasoning_effort"] == "high"


def test_extra_body_reaches_the_wire_and_a_refused_field_is_healed(lime: Lime) -> None:
    lime.add_model("xb", extra_body={"options": {"num_ctx": 16384}, "top_k": 20})
    lime.server.enqueue(
        lambda req: error(
            400, {"error": {"message": "Unrecognized request argument supplied: top_k"}}) if "top_k" in req.json
        else reply("ok"))
    lime.server.enqueue(reply("ok"))
    ok(lime.run("--model", "xb", "-p", "hi"))
    first, second = lime.server.chat_requests
    assert first.json["options"] == {"num_ctx": 16384} and first.json["top_k"] == 20
    assert "top_k" not in second.json and second.json["options"] == {"num_ctx": 16384}


def test_a_thinking_model_inlining_think_blocks(lime: Lime) -> None:
    lime.server.enqueue(think_reply("The user wants a number. 6*7.", "It is 42.", chunks=9),
                        think_reply("Recall the last answer.", "Still 42.", tag="thinking", chunks=5))
    proc = ok(lime.run("--json", "-p", "6 times 7?"))
    data = json.loads(proc.stdout)
    assert data["text"] == "It is 42." and "think" not in proc.stdout.replace("thinking", "")
    assert data["reasoning"] == "The user wants a number. 6*7."
    proc = ok(lime.run("-c", "-p", "and again?"))
    assert proc.stdout == "Still 42.\n"
    sent = lime.server.last.json["messages"]
    earlier = [m for m in sent if m["role"] == "assistant"]
    assert earlier == [{"role": "assistant", "content": "It is 42."}]  # no think block, no reasoning_content


def test_ollama_silent_truncation_is_named_and_compacted(lime: Lime) -> None:
    as_ollama(lime.server, {"llama3.2:3b": {"capabilities": ["completion"], "context_length": 131072}})
    ok(login(lime, "ollama", lime.server.base_url))
    lime.add_model("big-window", service="ollama", api_id="llama3.2:3b", context_window=32000,
                   supports_include_usage=True)
    words = " ".join(f"word{i % 50}" for i in range(1200))
    lime.server.enqueue(reply("First answer."))
    proc = ok(lime.run("--model", "big-window", "-p", "Remember these: " + words))
    assert "truncated" not in proc.stderr
    assert lime.server.profile is not None
    lime.server.profile.truncate_at = 800  # now num_ctx is smaller than the conversation
    lime.server.enqueue(reply("An answer from a cut conversation."), reply("Summary: the user listed words."))
    proc = ok(lime.run("--model", "big-window", "-c", "-p", "And these: " + words))
    assert proc.stdout == "An answer from a cut conversation.\n"
    assert "truncated the conversation" in proc.stderr and "OLLAMA_CONTEXT_LENGTH" in proc.stderr
    assert "num_ctx" in proc.stderr and "compacting" in proc.stderr
    lime.server.profile.truncate_at = None
    lime.server.enqueue(reply("Fine now."))
    ok(lime.run("--model", "big-window", "-c", "-p", "ok?"))
    sent = json.dumps(lime.server.last.json["messages"])
    assert "Summary: the user listed words." in sent and sent.count("word49") < 30


LITELLM_OVERFLOW = {"error": {
    "message": "litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: "
               "OpenAIException - request (3031 tokens) exceeds the available context size (1024 tokens), try "
               "increasing it. Received Model Group=local-qwen\nAvailable Model Group Fallbacks=None",
    "type": None, "param": None, "code": "400"}}


def test_litellm_wrapped_overflow_compacts_and_retries(lime: Lime) -> None:
    words = " ".join(f"fox{i % 40}" for i in range(400))
    lime.server.enqueue(reply("First."), error(400, LITELLM_OVERFLOW))
    lime.server.default = lambda req: reply("SUMMARY: foxes." if not req.stream else "After compaction.")
    assert "truncated" not in ok(lime.run("-p", words)).stderr
    proc = ok(lime.run("-c", "-p", "go on"))
    assert proc.stdout == "After compaction.\n" and "context overflow" in proc.stderr
    assert lime.server.chat_requests[-1].json["messages"][-1]["content"] == "go on"
    assert len(lime.server.chat_requests) >= 3  # the overflow was recognised and the request retried


def test_a_hostile_server_cannot_paint_the_terminal_or_flood_discovery(lime: Lime) -> None:
    evil = "qwen\x1b]52;c;cGF5bG9hZA==\x07\x1b[2J"
    as_vllm(lime.server, {evil: 4096, "fine-model": 8192, "x" * 300: 4096})
    ok(login(lime, "evil", lime.server.base_url))
    proc = ok(lime.run("model", "import", "evil"))
    assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout + proc.stderr
    assert set(models(lime)) == {"fake-model", "other-model", "fine-model"}
    assert proc.stderr.count("skipped (not a usable model id)") == 2
    lime.server.route("GET", "/v1/models", {"object": "list", "data": [{"id": "m", "pad": "x" * (9 * 2**20)}]})
    one_line_error(lime.run("model", "import", "evil"), "more than 8 MiB")


def test_a_dry_run_exits_as_the_import_would(lime: Lime) -> None:
    """A plain server lists models without windows: nothing can be imported, dry run or not."""
    ok(login(lime, "plain", lime.server.base_url))
    for extra in (("--dry-run",), ()):
        res = lime.run("model", "import", "plain", *extra)
        assert res.returncode == 1, (extra, res.stdout, res.stderr)
        assert "fake-model: skipped" in res.stderr and "Traceback" not in res.stderr
