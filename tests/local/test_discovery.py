"""Capability discovery against a server speaking llama.cpp's (and vLLM's) real JSON."""

from __future__ import annotations

import socket

from lime.catalog.builtin import BUILTIN_ENTRIES
from lime.catalog.entries import ModelEntry, default_auto_compact, default_max_output
from lime.catalog.presets import get_preset
from lime.providers.openai_compat.discovery import Discovery, discover, server_root

from .conftest import PropsServer

SMOL = next(e for e in BUILTIN_ENTRIES if e.slug == "smollm2")


def test_llamacpp_window_and_template_caps(props_server: PropsServer) -> None:
    found = discover(props_server.base_url, None)
    assert found is not None
    assert found.server == "llama.cpp"
    assert found.n_ctx == 2048 and found.n_ctx_train == 8192
    assert found.model_ids == ("smollm2",)
    assert found.supports_tools is False and found.tools is False
    assert found.supports_system_role is True
    assert found.supports_include_usage is True
    assert found.vision is False
    assert [t for t, _ in props_server.requests] == ["/props", "/v1/models"]


def test_window_comes_from_the_server_and_limits_are_recomputed(props_server: PropsServer) -> None:
    props_server.routes["/props"][1]["default_generation_settings"]["n_ctx"] = 4096
    found = discover(props_server.base_url, None)
    assert found is not None and found.n_ctx == 4096
    entry, caps = found.apply(SMOL, get_preset("local"))
    assert entry.context_window == 4096
    assert entry.max_output == default_max_output(4096) == 1024
    assert entry.auto_compact == default_auto_compact(4096, 1024)
    assert entry.slug == "smollm2" and entry.display_name == SMOL.display_name
    assert caps.include_usage is True
    assert caps.tools is False and caps.parallel_tool_calls is False
    assert caps.reasoning_effort is False


def test_template_with_tools_turns_tools_on(props_server: PropsServer) -> None:
    caps_json = props_server.routes["/props"][1]["chat_template_caps"]
    caps_json.update(supports_tools=True, supports_tool_calls=True, supports_parallel_tool_calls=True,
                     supports_reasoning_effort=True)
    found = discover(props_server.base_url, None)
    assert found is not None and found.tools is True
    _, caps = found.apply(SMOL, get_preset("local"))
    assert caps.tools and caps.parallel_tool_calls and caps.reasoning_effort


def test_tools_without_tool_call_rendering_stay_off(props_server: PropsServer) -> None:
    props_server.routes["/props"][1]["chat_template_caps"].update(supports_tools=True, supports_tool_calls=False)
    found = discover(props_server.base_url, None)
    assert found is not None and found.tools is False


def test_key_is_sent_and_a_wrong_key_learns_nothing(props_server: PropsServer) -> None:
    props_server.api_key = "sk-local-abc"
    assert discover(props_server.base_url, "wrong") is None
    found = discover(props_server.base_url, "sk-local-abc")
    assert found is not None and found.n_ctx == 2048
    assert props_server.requests[-1][1]["authorization"] == "Bearer sk-local-abc"


def test_older_llamacpp_without_template_caps(props_server: PropsServer) -> None:
    del props_server.routes["/props"][1]["chat_template_caps"]
    found = discover(props_server.base_url, None)
    assert found is not None and found.n_ctx == 2048
    assert found.tools is None
    entry, _ = found.apply(SMOL, get_preset("local"))
    assert entry.supports_tools is None  # not reported: the preset's belief stays


def test_models_endpoint_alone_still_gives_the_window(props_server: PropsServer) -> None:
    del props_server.routes["/props"]
    found = discover(props_server.base_url, None)
    assert found is not None and found.server == "llama.cpp"
    assert found.n_ctx == 2048 and found.n_ctx_train == 8192


def test_vllm_max_model_len(props_server: PropsServer) -> None:
    del props_server.routes["/props"]
    props_server.routes["/v1/models"] = (200, {"object": "list", "data": [
        {"id": "Qwen/Qwen2.5-7B-Instruct", "object": "model", "owned_by": "vllm", "max_model_len": 32768},
    ]})
    found = discover(props_server.base_url, None)
    assert found is not None and found.server == "vllm"
    assert found.n_ctx == 32768 and found.model_ids == ("Qwen/Qwen2.5-7B-Instruct",)


def test_picks_the_named_model_among_several(props_server: PropsServer) -> None:
    del props_server.routes["/props"]
    props_server.routes["/v1/models"] = (200, {"object": "list", "data": [
        {"id": "a", "max_model_len": 1000}, {"id": "b", "max_model_len": 2000},
    ]})
    found = discover(props_server.base_url, None, model="b")
    assert found is not None and found.n_ctx == 2000


def test_plain_openai_server_with_nothing_to_say(props_server: PropsServer) -> None:
    del props_server.routes["/props"]
    props_server.routes["/v1/models"] = (200, {"object": "list", "data": []})
    assert discover(props_server.base_url, None) is None


def test_garbage_bodies_are_not_an_error(props_server: PropsServer) -> None:
    props_server.routes["/props"] = (200, b"<html>proxy error</html>")
    props_server.routes["/v1/models"] = (500, b"oops")
    assert discover(props_server.base_url, None) is None


def test_server_down_or_bad_url_returns_none() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    assert discover(f"http://127.0.0.1:{port}/v1", None, timeout=1.0) is None
    assert discover("not a url", None) is None


def test_root_is_beside_v1() -> None:
    assert server_root("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080"
    assert server_root("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080"
    assert server_root("http://h/proxy") == "http://h/proxy"


def test_cache_round_trip_and_corrupt_cache(props_server: PropsServer) -> None:
    found = discover(props_server.base_url, None)
    assert found is not None
    assert Discovery.from_json(found.to_json()) == found
    assert Discovery.from_json({"n_ctx": 5}) is None
    assert Discovery.from_json("x") is None
    odd = Discovery.from_json({"server": "llama.cpp", "n_ctx": "big", "supports_tools": "yes"})
    assert odd is not None and odd.n_ctx is None and odd.supports_tools is None


def test_user_entry_keeps_its_own_flags_when_server_is_silent() -> None:
    entry = ModelEntry(slug="mine", provider="openai-compat", service="box", context_window=8192,
                       supports_tools=True)
    assert Discovery(server="openai-compatible", model_ids=("mine",)).entry_for(entry) == entry


def test_entry_flags_for_model_add(props_server: PropsServer) -> None:
    found = discover(props_server.base_url, None)
    assert found is not None
    assert found.entry_flags() == {"supports_tools": False, "supports_parallel_tool_calls": False,
                                   "supports_include_usage": True, "supports_reasoning_effort": False,
                                   "supports_vision": False, "supports_response_format": True}
    assert Discovery(server="vllm", n_ctx=4096).entry_flags() == {}


def test_a_query_on_the_base_url_reaches_every_discovery_endpoint(props_server: PropsServer) -> None:
    found = discover(props_server.base_url + "?api-version=1", None)
    assert found is not None and found.server == "llama.cpp"
    assert [t for t, _ in props_server.requests] == ["/props?api-version=1", "/v1/models?api-version=1"]
    assert server_root("http://h/v1?api-version=1") == "http://h?api-version=1"
