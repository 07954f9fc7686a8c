"""Credential buckets through the real CLI: storage, isolation, fallbacks, file safety."""

from __future__ import annotations

import json
import stat
import subprocess
import sys

from lime.catalog.routing import resolve_route

from .conftest import Lime, assert_one_line_error

GROQ_KEY = "gsk_groqsecret000000000000001111"
MISTRAL_KEY = "mistral-secret-000000000000002222"


def login(lime: Lime, service: str, key: str, *extra: str) -> None:
    res = lime("login", "--provider", "openai-compat", "--service", service, "--with-api-key", *extra, input=key + "\n")
    assert res.code == 0, res


def test_login_stores_key_masked_with_private_modes(lime: Lime) -> None:
    res = lime("login", "--provider", "openai-compat", "--service", "groq", "--with-api-key", input=GROQ_KEY + "\n")
    assert res.code == 0, res
    assert GROQ_KEY not in res.out + res.err
    assert "...1111" in res.out and "openai_compat:groq" in res.out
    assert stat.S_IMODE(lime.home.stat().st_mode) == 0o700
    cred = lime.home / "credentials.json"
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600
    data = json.loads(cred.read_text())
    assert data["buckets"]["openai_compat:groq"]["api_key"] == GROQ_KEY
    # no temp files left behind by the atomic write
    assert sorted(p.name for p in lime.home.iterdir() if not p.name.endswith(".lock")) == ["credentials.json"]


def test_buckets_never_mix(lime: Lime) -> None:
    login(lime, "groq", GROQ_KEY)
    login(lime, "mistral", MISTRAL_KEY)
    groq = resolve_route("llama-3.3-70b")
    mistral = resolve_route("mistral-small")
    assert groq.api_key == GROQ_KEY and groq.credential.source == "bucket openai_compat:groq"
    assert mistral.api_key == MISTRAL_KEY and mistral.credential.source == "bucket openai_compat:mistral"
    assert resolve_route("grok-4").api_key is None
    # logout removes that bucket only
    res = lime("logout", "--provider", "openai-compat", "--service", "groq")
    assert res.code == 0, res
    assert resolve_route("llama-3.3-70b").api_key is None
    assert resolve_route("mistral-small").api_key == MISTRAL_KEY


def test_custom_service_routes_to_its_own_bucket_and_url(lime: Lime) -> None:
    login(lime, "my-proxy", "proxy-key-00000000000000000003", "--with-base-url", "https://proxy.internal/v1/")
    res = lime("model", "add", "--slug", "internal-llama", "--provider", "openai-compat", "--service", "my-proxy",
               "--api-id", "internal/llama-70b", "--context-window", "128000")
    assert res.code == 0, res
    route = resolve_route("internal-llama")
    assert route.base_url == "https://proxy.internal/v1"
    assert route.wire_model == "internal/llama-70b"
    assert route.api_key == "proxy-key-00000000000000000003"
    # a second login replaces the whole entry, so it needs the URL again and says why
    res = lime("login", "--provider", "openai-compat", "--service", "my-proxy", "--with-api-key",
               input="proxy-key-00000000000000000004\n")
    assert_one_line_error(res, "--with-base-url", "a login replaces the service's stored URL, key and headers")
    assert resolve_route("internal-llama").api_key == "proxy-key-00000000000000000003"


def test_env_fallback_order(lime: Lime, monkeypatch) -> None:
    # preset env var when no bucket
    monkeypatch.setenv("GROQ_API_KEY", "env-groq-key-000000000000")
    monkeypatch.setenv("OPENAI_API_KEY", "env-openai-key-00000000000")
    assert resolve_route("llama-3.3-70b").credential.source == "env GROQ_API_KEY"
    # the stored bucket wins over the env var
    login(lime, "groq", GROQ_KEY)
    route = resolve_route("llama-3.3-70b")
    assert route.api_key == GROQ_KEY and route.credential.source == "bucket openai_compat:groq"
    # a preset with its own variable never falls back to OPENAI_API_KEY
    assert resolve_route("grok-4").api_key is None
    # a custom service registered without a key is keyless: OPENAI_API_KEY never goes to it
    res = lime("login", "--provider", "openai-compat", "--service", "vllm", "--with-base-url", "http://127.0.0.1:9/v1")
    assert res.code == 0, res
    lime("model", "add", "--slug", "my-vllm", "--provider", "openai-compat", "--service", "vllm",
         "--context-window", "32768")
    route = resolve_route("my-vllm")
    assert route.api_key is None and route.credential.keyless
    route.require_key()  # registered without a key on purpose: allowed


def test_openai_preset_env_and_base_url(lime: Lime, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-env-000000000000")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    route = resolve_route("gpt-5.4")
    assert route.base_url == "http://127.0.0.1:8080/v1"
    assert route.credential.source == "env OPENAI_API_KEY"
    res = lime("login", "--provider", "openai", "--with-api-key", input="sk-stored-openai-0000000000\n")
    assert res.code == 0, res
    # the stored key belongs to the URL it was stored for, never to OPENAI_BASE_URL
    assert resolve_route("gpt-5.4").api_key == "sk-openai-env-000000000000"
    monkeypatch.delenv("OPENAI_API_KEY")
    route = resolve_route("gpt-5.4")
    assert route.api_key is None and "belongs to https://api.openai.com/v1" in (route.credential.problem or "")
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert resolve_route("gpt-5.4").api_key == "sk-stored-openai-0000000000"


def test_ollama_needs_no_key(lime: Lime) -> None:
    route = resolve_route("llama3.2")
    route.require_key()
    assert route.credential.source == "none needed"


def test_missing_key_error_names_bucket_env_and_command(lime: Lime) -> None:
    route = resolve_route("llama-3.3-70b")
    try:
        route.require_key()
    except Exception as exc:  # LimeError
        msg = str(exc)
    else:
        raise AssertionError("expected a missing-key error")
    assert "openai_compat:groq" in msg and "GROQ_API_KEY" in msg
    assert "lime login --provider openai-compat --service groq --with-api-key" in msg


def test_status_shows_source_never_key(lime: Lime) -> None:
    login(lime, "groq", GROQ_KEY)
    res = lime("status", env={"LIME_MODEL": "llama-3.3-70b"})
    assert res.code == 0, res
    assert "bucket openai_compat:groq" in res.out
    assert GROQ_KEY not in res.out + res.err and "1111" not in res.out
    assert "https://api.groq.com/openai/v1" in res.out and "llama-3.3-70b-versatile" in res.out


def test_login_bad_input(lime: Lime) -> None:
    assert_one_line_error(lime("login", "--provider", "anthropic-compat", "--service", "x", "--with-api-key",
                               input="k" * 20), "unknown provider")
    assert_one_line_error(lime("login", "--provider", "openai-compat", "--with-api-key", input="k" * 20),
                          "--service")
    assert_one_line_error(lime("login", "--provider", "openai", "--service", "groq", "--with-api-key",
                               input="k" * 20), "--service is only accepted")
    assert_one_line_error(lime("login", "--provider", "openai-compat", "--service", "my-proxy", "--with-api-key",
                               input="k" * 20), "--with-base-url")
    assert_one_line_error(lime("login", "--provider", "openai-compat", "--service", "p", "--with-api-key",
                               "--with-base-url", "ftp://x/v1", input="k" * 20), "http")
    assert_one_line_error(lime("login", "--provider", "openai-compat", "--service", "groq", "--with-api-key",
                               input="\n"), "empty API key")
    assert_one_line_error(lime("logout", "--provider", "openai-compat", "--service", "groq"), "no stored credential")
    assert not (lime.home / "credentials.json").exists()


def test_corrupt_credentials_file_is_never_overwritten(lime: Lime) -> None:
    login(lime, "groq", GROQ_KEY)
    cred = lime.home / "credentials.json"
    broken = cred.read_text()[:-20]
    cred.write_text(broken)
    res = lime("login", "--provider", "openai-compat", "--service", "mistral", "--with-api-key", input=MISTRAL_KEY)
    assert_one_line_error(res, "corrupt")
    assert GROQ_KEY not in res.err  # the file's content is never echoed
    assert cred.read_text() == broken


def test_unreadable_config_home(lime: Lime, tmp_path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    res = lime("status", env={"LIME_CONFIG_HOME": str(not_a_dir)})
    assert_one_line_error(res, "config home")
    res = lime("login", "--provider", "openai-compat", "--service", "groq", "--with-api-key",
               input=GROQ_KEY, env={"LIME_CONFIG_HOME": str(not_a_dir / "sub")})
    assert_one_line_error(res, "config home")


def test_concurrent_logins_lose_nothing(lime: Lime) -> None:
    services = [f"svc{i}" for i in range(8)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lime", "login", "--provider", "openai-compat", "--service", s, "--with-api-key",
             "--with-base-url", f"http://127.0.0.1:{9000 + i}/v1"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=lime.env, text=True,
        )
        for i, s in enumerate(services)
    ]
    for i, p in enumerate(procs):
        _, err = p.communicate(f"key-{i:030d}\n", timeout=60)
        assert p.returncode == 0, err
    data = json.loads((lime.home / "credentials.json").read_text())
    assert {f"openai_compat:{s}" for s in services} == set(data["buckets"])
    for i, s in enumerate(services):
        assert data["buckets"][f"openai_compat:{s}"]["api_key"] == f"key-{i:030d}"


def test_one_login_hint_for_every_service() -> None:
    from lime.auth.hints import login_hint

    assert login_hint("openai") == "lime login --provider openai --with-api-key"
    assert login_hint("groq") == "lime login --provider openai-compat --service groq --with-api-key"
    assert login_hint() == "lime login --provider openai-compat --service NAME --with-api-key"
    assert login_hint("tp", base_url=True).endswith("--service tp --with-api-key --with-base-url URL")
    assert login_hint("anthropic", base_url="http://127.0.0.1:4000/v1") == \
        "lime login --provider anthropic --with-api-key --with-base-url http://127.0.0.1:4000/v1"
