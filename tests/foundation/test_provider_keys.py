"""The native providers' keys and routes: ANTHROPIC_API_KEY, GEMINI_API_KEY then GOOGLE_API_KEY,
``lime login --provider anthropic|gemini``, aliases and Gemini wire ids."""

from __future__ import annotations

import pytest

from lime.catalog.routing import resolve_route
from lime.errors import ConfigError

from .conftest import Lime


def test_env_keys_and_their_order(lime: Lime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-envkey-000000000001")
    route = resolve_route("sonnet")
    assert route.entry.slug == "claude-sonnet-4-5" and route.api_key == "sk-ant-envkey-000000000001"
    assert route.base_url == "https://api.anthropic.com/v1"
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-google-000000000002")
    assert resolve_route("flash").credential.source == "env GOOGLE_API_KEY"
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-gemini-000000000003")
    assert resolve_route("flash").api_key == "AIza-gemini-000000000003"  # GEMINI_API_KEY first


def test_keys_never_cross_providers(lime: Lime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-000000000000004")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-000000000000005")
    assert resolve_route("claude-haiku-4-5").api_key == "sk-ant-000000000000005"
    assert resolve_route("gpt-5.4").api_key == "sk-openai-000000000000004"
    with pytest.raises(ConfigError) as info:
        resolve_route("gemini-2.5-pro").require_key()
    assert "lime login --provider gemini" in str(info.value)


def test_login_with_a_base_url_routes_the_provider_there(lime: Lime) -> None:
    res = lime("login", "--provider", "anthropic", "--with-api-key", "--with-base-url", "http://127.0.0.1:9/v1",
               input="sk-ant-stored-000000000006\n")
    assert res.code == 0, res
    assert "sk-ant-stored-000000000006" not in res.out + res.err
    route = resolve_route("opus")
    assert route.base_url == "http://127.0.0.1:9/v1" and route.api_key == "sk-ant-stored-000000000006"
    res = lime("login", "--provider", "vertex", "--with-api-key", input="x\n")
    assert res.code == 2 and "unknown provider 'vertex'" in res.err


def test_gemini_wire_ids_and_unknown_names(lime: Lime) -> None:
    assert resolve_route("gemini-2.5-pro-preview-03-25").wire_model == "gemini-2.5-pro-preview-03-25"
    with pytest.raises(ConfigError):
        resolve_route("gemini-../../etc")
    with pytest.raises(ConfigError):
        resolve_route("claude-9")  # only Gemini ids route without an entry


def test_model_show_and_default_take_aliases(lime: Lime) -> None:
    res = lime("model", "show", "haiku")
    assert res.code == 0 and "slug: claude-haiku-4-5" in res.out and "provider: anthropic" in res.out
    assert lime("model", "default", "flash").code == 0
    assert resolve_route("flash").entry.slug == "gemini-2.5-flash"
