"""The real LiteLLM proxy (``litellm[proxy]``, pinned by ``.ci/litellm-proxy.txt`` in a venv of its
own, ``.ci/litellm-venv``) in front of the real llama.cpp server, registered through ``lime`` as a
user would, on each wire the proxy serves: Chat Completions, Anthropic Messages (``/v1/messages``)
and OpenAI Responses (``/v1/responses``).

The proxy runs without a key database, with a master key. Its model list has the session's
llama.cpp server (``tiny``), a scripted upstream (``scripted``: a fake OpenAI-compatible server
in this process that asks for a tool and then answers from its result, since SmolLM2's chat
template has no tool support) and a model without ``model_info`` (``bare``). Everything listens
on 127.0.0.1; LiteLLM is told to use its bundled cost map, so it reaches nothing else.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lime.local import manager
from support.fakeserver import FakeServer, Recorded, Reply, reply

from .conftest import _apply_env, clean_env

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".ci" / "litellm-venv"
LITELLM = VENV / "bin" / "litellm"
INSTALL = "python3 -m venv .ci/litellm-venv && .ci/litellm-venv/bin/pip install -q -r .ci/litellm-proxy.txt"
START_TIMEOUT = 90.0
LIME = [sys.executable, "-m", "lime"]
SECRET = "The password is PELICAN."


@dataclass(frozen=True)
class Proxy:
    url: str  # the base URL a user gives lime: http://127.0.0.1:PORT/v1
    port: int
    key: str  # the master key
    upstream: FakeServer  # the scripted model's


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health/liveliness")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def _scripted(req: Recorded) -> Reply:
    """Asks to read secret.txt; once the tool's result comes back, answers with what it said."""
    if b"PELICAN" in req.body:
        return reply(f"It says: {SECRET}", chunks=3)
    return reply("", tool_calls=[("read_file", {"path": "secret.txt"})])


@pytest.fixture(scope="session")
def proxy(shared_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    if not LITELLM.exists():
        why = f"needs the LiteLLM proxy in {VENV}: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (CI installs it in .ci/run)")
        pytest.skip(why)
    with pytest.MonkeyPatch.context() as mp:
        _apply_env(mp, shared_home)
        llama = manager.ensure_server()
    upstream = FakeServer(models=["scripted"])
    upstream.default = _scripted
    work = tmp_path_factory.mktemp("litellm")
    key = "sk-" + secrets.token_urlsafe(24)
    config = {
        "model_list": [
            {"model_name": "tiny", "litellm_params": {"model": f"openai/{llama.alias}", "api_base": llama.base_url,
                                                      "api_key": llama.api_key},
             "model_info": {"max_input_tokens": llama.n_ctx, "max_output_tokens": 512}},
            {"model_name": "scripted", "litellm_params": {"model": "openai/scripted", "api_base": upstream.base_url,
                                                          "api_key": "upstream-key"},
             "model_info": {"max_input_tokens": 32000}},
            {"model_name": "bare", "litellm_params": {"model": "openai/bare", "api_base": upstream.base_url,
                                                      "api_key": "upstream-key"}},
        ],
        "general_settings": {"master_key": key},
    }
    (work / "config.yaml").write_text(json.dumps(config, indent=1))  # JSON is YAML
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8",
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           # the bundled price map: no download at start-up (its telemetry stays off without a
           # consent in its settings, and this proxy has none)
           "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LITELLM_MODE": "PRODUCTION"}  # no .env file read from the working directory
    port = _free_port()
    log = (work / "litellm.log").open("wb")
    t0 = time.monotonic()
    proc = subprocess.Popen([str(LITELLM), "--config", str(work / "config.yaml"), "--port", str(port),
                             "--host", "127.0.0.1"], cwd=work, env=env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not _alive(port):
            if proc.poll() is not None or time.monotonic() - t0 > START_TIMEOUT:
                tail = (work / "litellm.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"the LiteLLM proxy did not start (exit {proc.poll()}):\n{tail}")
            time.sleep(0.1)
        print(f"\n[measure] LiteLLM proxy ready in {time.monotonic() - t0:.1f}s")
        yield Proxy(url=f"http://127.0.0.1:{port}/v1", port=port, key=key, upstream=upstream)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()
        upstream.close()


def _lime(home: Path, *args: str, input: str | None = None, cwd: Path | None = None, **env: str,
          ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*LIME, *args], capture_output=True, text=True, env=clean_env(home, **env), timeout=120,
                          input=input, stdin=None if input is not None else subprocess.DEVNULL, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    return proc


def _one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and lines[0].startswith("lime: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# The three ways to register the proxy: its Chat Completions endpoint as an OpenAI-compatible
# service (models imported from /model/info), and its two native wires under the anthropic and
# openai providers with an own base URL.
WIRES = ("chat", "anthropic", "responses")


def _register(home: Path, proxy: Proxy, wire: str, key: str, model: str, window: int) -> str:
    """Log in to the proxy for ``wire`` and return the slug that reaches ``model`` through it."""
    if wire == "chat":
        _ok(_lime(home, "login", "--provider", "openai-compat", "--service", "litellm", "--with-api-key",
                  "--with-base-url", proxy.url, input=key + "\n"))
        _ok(_lime(home, "model", "import", "litellm", model, "--replace"))
        return model
    provider = "anthropic" if wire == "anthropic" else "openai"
    _ok(_lime(home, "login", "--provider", provider, "--with-api-key", "--with-base-url", proxy.url,
              input=key + "\n"))
    slug = f"{model}-{wire}"
    _ok(_lime(home, "model", "add", "--slug", slug, "--provider", provider, "--api-id", model,
              "--context-window", str(window), "--max-output", "64", "--replace"))
    return slug


@pytest.fixture(scope="session")
def proxy_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The config home of a user who reaches the proxy (the shared llama.cpp home stays untouched)."""
    return tmp_path_factory.mktemp("lime-litellm") / "home"


@pytest.fixture(params=WIRES)
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tiny(proxy: Proxy, proxy_home: Path, wire: str) -> str:
    return _register(proxy_home, proxy, wire, proxy.key, "tiny", 2048)


def test_model_import_reads_model_info(proxy: Proxy, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(_lime(home, "login", "--provider", "openai-compat", "--service", "litellm", "--with-api-key",
              "--with-base-url", proxy.url, input=proxy.key + "\n"))
    # "bare" has no model_info, so no window: skipped with a way out, the others imported
    proc = _ok(_lime(home, "model", "import", "litellm"))
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines()[1:] if line.strip()}
    assert rows["tiny"][1:3] == ["2,048", "512"] and rows["scripted"][1] == "32,000"
    assert "Imported 2 models from litellm" in proc.stdout
    assert "bare: skipped (litellm gave no context window for it" in proc.stderr
    assert "--context-window N" in proc.stderr
    show = _ok(_lime(home, "model", "show", "tiny")).stdout
    assert "context_window: 2048" in show and f"route: litellm {proxy.url} as tiny" in show
    assert proxy.key not in proc.stdout + proc.stderr + show


def test_one_shot_and_json_usage(proxy: Proxy, tiny: str, proxy_home: Path) -> None:
    proc = _ok(_lime(proxy_home, "--model", tiny, "--json", "-p", "Say hello", "--max-tokens", "24"))
    out = json.loads(proc.stdout)
    assert out["text"].strip()
    assert out["route"]["base_url"] == proxy.url and out["route"]["wire_model"] == "tiny"
    assert out["usage"]["estimated"] is False and 0 < out["usage"]["completion_tokens"] <= 24
    assert out["usage"]["prompt_tokens"] > 0


def test_stream_and_resume(tiny: str, proxy_home: Path) -> None:
    proc = _ok(_lime(proxy_home, "--model", tiny, "-p", "Name a colour.", "--max-tokens", "16",
                     "--output-format", "stream-json"))
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    pieces = [e["text"] for e in events if e["type"] == "text"]
    assert len(pieces) > 1, events  # streamed, not one block
    assert events[-1]["type"] == "result" and events[-1]["text"] == "".join(pieces)
    again = _ok(_lime(proxy_home, "--model", tiny, "-c", "-p", "And another?", "--max-tokens", "16"))
    assert again.stdout.strip()


def _tool_names(body: dict[str, Any]) -> list[str]:
    """The tools of a Chat Completions or Responses request body."""
    return [t.get("function", t).get("name") for t in body.get("tools") or []]


def test_two_step_tool_task(proxy: Proxy, proxy_home: Path, wire: str, tmp_path: Path) -> None:
    slug = _register(proxy_home, proxy, wire, proxy.key, "scripted", 32000)
    work = tmp_path / "work"
    work.mkdir()
    (work / "secret.txt").write_text(SECRET + "\n")
    seen = len(proxy.upstream.requests)
    proc = _ok(_lime(proxy_home, "--model", slug, "--json", "-p", "What does secret.txt say?", cwd=work))
    out = json.loads(proc.stdout)
    assert SECRET in out["text"] and out["requests"] == 2
    [call] = out["tool_calls"]
    assert call["name"] == "read_file" and call["arguments"] == {"path": "secret.txt"} and call["status"] == "ok"
    # what LiteLLM passed on: lime's tools on the first request, the file's text on the second
    sent = [r for r in proxy.upstream.requests[seen:] if r.method == "POST"]
    assert len(sent) == 2 and all(r.json is not None for r in sent)
    assert {"read_file", "write_file", "bash"} <= set(_tool_names(sent[0].json or {}))
    assert b"PELICAN" not in sent[0].body and b"PELICAN" in sent[1].body


def test_wrong_key_is_refused_clearly(proxy: Proxy, wire: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    wrong = "sk-not-the-master-key-" + secrets.token_hex(4)
    if wire == "chat":  # the import itself is refused
        _ok(_lime(home, "login", "--provider", "openai-compat", "--service", "litellm", "--with-api-key",
                  "--with-base-url", proxy.url, input=wrong + "\n"))
        line = _one_line_error(_lime(home, "model", "import", "litellm"), "HTTP 400", "No connected db",
                               "check the key")
        assert wrong not in line
        _ok(_lime(home, "model", "add", "--slug", "tiny", "--provider", "openai-compat", "--service", "litellm",
                  "--api-id", "tiny", "--context-window", "2048"))
        slug, login = "tiny", "lime login --provider openai-compat --service litellm --with-api-key"
    else:
        slug = _register(home, proxy, wire, wrong, "tiny", 2048)
        login = f"lime login --provider {'anthropic' if wire == 'anthropic' else 'openai'} --with-api-key"
    line = _one_line_error(_lime(home, "--model", slug, "-p", "hi"), "the key was refused (HTTP 400)",
                           "No connected db", "accepts only its master key", login)
    # the way out keeps the proxy's address: without it the login would go back to the public API
    assert f"{login} --with-base-url {proxy.url}" in line
    assert wrong not in line and "db.:" not in line


def test_no_key_at_all(proxy: Proxy, wire: str, tmp_path: Path) -> None:
    """The proxy answers a request without a key with a bare HTTP 500; lime says it sent none."""
    home = tmp_path / "home"
    provider = {"chat": "openai-compat", "anthropic": "anthropic", "responses": "openai"}[wire]
    service = ["--service", "litellm"] if wire == "chat" else []
    _ok(_lime(home, "login", "--provider", provider, *service, "--with-base-url", proxy.url))
    _ok(_lime(home, "model", "add", "--slug", "t", "--provider", provider, *service, "--api-id", "tiny",
              "--context-window", "2048"))
    line = _one_line_error(_lime(home, "--model", "t", "-p", "hi", LIME_MAX_RETRIES="0"),
                           "server error (HTTP 500): Internal Server Error", "lime sent no key")
    assert line.endswith(f"if it wants one, run: lime login --provider {provider} {' '.join(service + [''])}"
                         f"--with-api-key --with-base-url {proxy.url})")
