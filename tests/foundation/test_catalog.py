"""The model catalog: defaults, merge rules, models.json safety, concurrent writers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lime.catalog.builtin import BUILTIN_ENTRIES
from lime.catalog.entries import ModelEntry
from lime.catalog.presets import PUBLIC_PRESET_IDS
from lime.catalog.store import load_catalog

from .conftest import Lime, assert_one_line_error


def add(lime: Lime, slug: str, *extra: str, window: str = "32000") -> None:
    res = lime("model", "add", "--slug", slug, "--provider", "openai-compat", "--service", "groq",
               "--context-window", window, *extra)
    assert res.code == 0, res


def user_doc(lime: Lime) -> dict:
    return json.loads((lime.home / "models.json").read_text())


@pytest.mark.parametrize(
    ("window", "max_output", "upper", "auto"),
    [
        (128_000, 32_000, 64_000, 83_200),      # window/4 under the cap; upper = 2x
        (1_000_000, 32_768, 65_536, 867_232),   # max_output capped at 32768
        (4_096, 1_024, 2_048, 2_662),           # upper = min(2x, window/2)
        (3, 1, 1, 1),                           # clamps: max_output >= 1, upper >= max_output, auto >= 1
        (10, 2, 4, 7),                         # window/4 floor = 2, upper = min(4, 5) = 4, auto = 9 - 2
    ],
)
def test_default_formulas(lime: Lime, window: int, max_output: int, upper: int, auto: int) -> None:
    add(lime, "m", window=str(window))
    (entry,) = user_doc(lime)["models"]
    assert (entry["max_output"], entry["upper_max_output"], entry["auto_compact"]) == (max_output, upper, auto)
    assert entry["display_name"] == "m" and entry["description"] == "Custom model"
    assert "api_id" not in entry and entry["param_preset"] == "none"
    assert entry["supports_vision"] is False and entry["supports_parallel_tool_calls"] is False
    assert entry["supports_reasoning_summaries"] is False


def test_upper_derives_from_explicit_max_output(lime: Lime) -> None:
    add(lime, "m", "--max-output", "1000", window="128000")
    (entry,) = user_doc(lime)["models"]
    assert entry["max_output"] == 1000 and entry["upper_max_output"] == 2000
    assert entry["auto_compact"] == 115_200 - 1000


def test_every_flag_is_stored(lime: Lime) -> None:
    add(lime, "full", "--display-name", "Full", "--desc", "d", "--api-model-id", "org/full", "--max-output", "100",
        "--upper-max-output", "150", "--auto-compact", "900", "--param-preset", "reasoning-and-verbosity",
        "--vision", "--parallel-tool-calls", "--reasoning-summaries", "--adaptive-thinking", window="1000")
    (e,) = user_doc(lime)["models"]
    assert e == {
        "slug": "full", "provider": "openai-compat", "service": "groq", "context_window": 1000,
        "display_name": "Full", "description": "d", "api_id": "org/full", "max_output": 100,
        "upper_max_output": 150, "auto_compact": 900, "param_preset": "reasoning_and_verbosity",
        "supports_vision": True, "supports_parallel_tool_calls": True, "supports_reasoning_summaries": True,
        "supports_extended_thinking": False, "supports_adaptive_thinking": True,
    }
    assert load_catalog().get("full").wire_id == "org/full"


def test_param_presets_in_limes_spelling_and_the_old_one(lime: Lime) -> None:
    for preset, stored in (("reasoning_only", "reasoning_only"), ("verbosity_only", "verbosity_only"),
                           ("none", "none"), ("reasoning", "reasoning_only"), ("verbosity", "verbosity_only")):
        add(lime, f"p-{preset}", "--param-preset", preset)
        assert user_doc(lime)["models"][-1]["param_preset"] == stored
    assert load_catalog().get("p-reasoning").allows_reasoning
    assert not load_catalog().get("p-verbosity_only").allows_reasoning
    res = lime("model", "add", "--slug", "bad", "--provider", "openai-compat", "--service", "groq",
               "--context-window", "1000", "--param-preset", "reasoning+verbosity")
    assert_one_line_error(res, "reasoning_and_verbosity")


def test_models_json_accepts_both_spellings(lime: Lime) -> None:
    lime.home.mkdir(parents=True, exist_ok=True)
    (lime.home / "models.json").write_text(json.dumps({"models": [
        {"slug": "a", "provider": "openai-compat", "service": "groq", "context_window": 1000,
         "param_preset": "reasoning_and_verbosity"},
        {"slug": "b", "provider": "openai-compat", "service": "groq", "context_window": 1000,
         "param_preset": "reasoning-and-verbosity"},
        {"slug": "c", "provider": "openai-compat", "service": "groq", "context_window": 1000,
         "param_preset": "lots"}]}))
    cat = load_catalog()
    assert cat.get("a").param_preset == cat.get("b").param_preset == "reasoning_and_verbosity"
    assert cat.get("a").allows_verbosity and cat.get("b").allows_reasoning
    assert cat.get("c") is None
    assert any("'param_preset'" in p and "reasoning_and_verbosity" in p for p in cat.problems)


def test_extra_body_and_response_format_are_stored(lime: Lime) -> None:
    add(lime, "xb", "--extra-body", '{"options": {"num_ctx": 16384}, "chat_template_kwargs": {"enable_thinking": false}}',
        "--response-format")
    (e,) = user_doc(lime)["models"]
    assert e["extra_body"] == {"options": {"num_ctx": 16384}, "chat_template_kwargs": {"enable_thinking": False}}
    assert e["supports_response_format"] is True
    entry = load_catalog().get("xb")
    assert entry.extra_body == e["extra_body"] and entry.supports_response_format is True
    shown = lime("model", "show", "xb").out  # as JSON, so it can be pasted back into --extra-body
    assert 'extra_body: {"options": {"num_ctx": 16384}, "chat_template_kwargs": {"enable_thinking": false}}' in shown
    for bad, said in (("[1, 2]", "JSON object"), ("{nope", "not valid JSON"), ('{"model": "x"}', "may not set model"),
                      ('{"messages": []}', "may not set messages")):
        res = lime("model", "add", "--slug", "bad", "--provider", "openai-compat", "--service", "groq",
                   "--context-window", "1000", "--extra-body", bad)
        assert_one_line_error(res, said)
    assert len(user_doc(lime)["models"]) == 1


def test_builtins_cover_every_preset() -> None:
    services = {e.service or "openai" for e in BUILTIN_ENTRIES}
    assert set(PUBLIC_PRESET_IDS) <= services
    gpt = next(e for e in BUILTIN_ENTRIES if e.slug == "gpt-5.4")
    assert gpt.context_window == 1_050_000 and gpt.max_output == 128_000


def test_merge_user_overrides_builtin_and_appends(lime: Lime) -> None:
    res = lime("model", "add", "--slug", "llama-3.3-70b", "--provider", "openai-compat", "--service", "together",
               "--context-window", "8192")
    assert_one_line_error(res, "built-in", "--replace")
    res = lime("model", "add", "--slug", "llama-3.3-70b", "--provider", "openai-compat", "--service", "together",
               "--context-window", "8192", "--replace")
    assert res.code == 0, res
    add(lime, "extra")
    res = lime("model", "list")
    assert res.code == 0, res
    rows = {line.split()[0]: line for line in res.out.splitlines()[1:]}
    assert "(user)" in rows["llama-3.3-70b"] and "together" in rows["llama-3.3-70b"]
    assert "(builtin)" in rows["gpt-5.4"] and "api.openai.com" in rows["gpt-5.4"]
    assert "(user)" in rows["extra"]
    assert list(rows).index("extra") == len(rows) - 1  # new slugs append
    # removing the override brings the built-in back
    assert lime("model", "rm", "llama-3.3-70b").code == 0
    assert load_catalog().get("llama-3.3-70b").source == "builtin"


def test_duplicate_and_replace(lime: Lime) -> None:
    add(lime, "dup")
    assert_one_line_error(lime("model", "add", "--slug", "dup", "--provider", "openai-compat", "--service", "groq",
                               "--context-window", "1000"), "already", "--replace")
    res = lime("model", "add", "--slug", "dup", "--provider", "openai-compat", "--service", "groq",
               "--context-window", "1000", "--replace")
    assert res.code == 0 and "Replaced" in res.out
    assert [m["context_window"] for m in user_doc(lime)["models"]] == [1000]


def test_rm_builtin_and_unknown(lime: Lime) -> None:
    assert_one_line_error(lime("model", "rm", "gpt-5.4"), "built-in")
    assert_one_line_error(lime("model", "rm", "nope"), "no user model")


def test_show(lime: Lime) -> None:
    res = lime("model", "show", "grok-3-mini")
    assert res.code == 0
    assert "context_window: 131072" in res.out and "route: xai https://api.x.ai/v1" in res.out
    assert "reasoning_effort" in res.out
    assert_one_line_error(lime("model", "show", "grok-3-mni"), "unknown model", "grok-3-mini")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--provider", "foo", "--context-window", "10"], "unknown provider"),
        (["--provider", "openai-compat", "--context-window", "10"], "--service"),
        (["--provider", "openai", "--service", "groq", "--context-window", "10"], "only accepted"),
        (["--provider", "openai-compat", "--service", "groq", "--context-window", "lots"], "--context-window"),
        (["--provider", "openai-compat", "--service", "groq", "--context-window", "0"], "--context-window"),
        (["--provider", "openai-compat", "--service", "groq", "--context-window", "-5"], "--context-window"),
        (["--provider", "openai-compat", "--service", "groq"], "--context-window"),
        (["--provider", "openai-compat", "--service", "groq", "--context-window", "100", "--max-output", "200"],
         "--max-output"),
        (["--provider", "openai-compat", "--service", "groq", "--context-window", "100", "--param-preset", "x"],
         "--param-preset"),
    ],
)
def test_add_bad_input(lime: Lime, args: list[str], needle: str) -> None:
    assert_one_line_error(lime("model", "add", "--slug", "s", *args), needle)
    assert not (lime.home / "models.json").exists()


def test_malformed_entry_names_file_entry_field_and_keeps_others(lime: Lime) -> None:
    path = lime.home / "models.json"
    lime.home.mkdir(mode=0o700)
    good = {"slug": "good", "provider": "openai-compat", "service": "groq", "context_window": 1000}
    bad = {"slug": "bad", "provider": "openai-compat", "service": "groq", "context_window": "huge"}
    path.write_text(json.dumps({"models": [good, bad]}))
    res = lime("model", "list")
    assert res.code != 0
    assert "good" in res.out and "\nbad " not in res.out
    assert str(path) in res.err and "'bad'" in res.err and "'context_window'" in res.err
    assert "Traceback" not in res.err
    # adding keeps the malformed entry verbatim for the user to fix
    add(lime, "new")
    doc = user_doc(lime)
    assert bad in doc["models"] and good in doc["models"]
    assert [m["slug"] for m in doc["models"]] == ["good", "bad", "new"]


def test_truncated_models_file_is_never_rewritten(lime: Lime) -> None:
    path = lime.home / "models.json"
    add(lime, "a")
    add(lime, "b")
    truncated = path.read_text()[:-30]
    path.write_text(truncated)
    res = lime("model", "list")
    assert res.code != 0 and "gpt-5.4" in res.out  # built-ins still listed
    assert str(path) in res.err and "not valid JSON" in res.err
    assert_one_line_error(lime("model", "add", "--slug", "c", "--provider", "openai-compat", "--service", "groq",
                               "--context-window", "10"), str(path))
    assert_one_line_error(lime("model", "rm", "a"), "not valid JSON")
    assert path.read_text() == truncated


def test_concurrent_adds_lose_nothing(lime: Lime) -> None:
    n = 10
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lime", "model", "add", "--slug", f"m{i}", "--provider", "openai-compat",
             "--service", "groq", "--context-window", str(1000 + i)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=lime.env, text=True,
        )
        for i in range(n)
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    slugs = sorted(m["slug"] for m in user_doc(lime)["models"])
    assert slugs == sorted(f"m{i}" for i in range(n))


def test_models_file_env_override(lime: Lime, tmp_path) -> None:
    other = tmp_path / "elsewhere" / "models.json"
    res = lime("model", "add", "--slug", "x", "--provider", "openai-compat", "--service", "groq",
               "--context-window", "100", env={"LIME_MODELS_FILE": str(other)})
    assert res.code == 0, res
    assert json.loads(other.read_text())["models"][0]["slug"] == "x"
    assert not (lime.home / "models.json").exists()


def test_entry_roundtrip_defaults_equal() -> None:
    e = ModelEntry(slug="s", provider="openai-compat", service="x", context_window=8192)
    assert (e.max_output, e.upper_max_output, e.auto_compact) == (2048, 4096, 7372 - 2048)
