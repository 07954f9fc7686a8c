"""Token estimates: the heuristic close to o200k, the exact table on OpenAI's published examples, any length."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest

import lime.tokens as tokens
from lime.providers.openai_compat.types import ToolSpec
from lime.tokens.heuristic import heuristic_count

# The example conversation of OpenAI's cookbook "How to count tokens with tiktoken", for which the
# API itself reported 129 prompt tokens on gpt-3.5-turbo / gpt-4 (cl100k) and 124 on gpt-4o (o200k).
COOKBOOK = [
    {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate "
                                  "jargon into plain English."},
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch "
                                                          "base on opportunities for increased leverage."},
    {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to "
                                                               "do better."},
    {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client "
                                "deliverable."},
]

PROSE = (
    "The committee met on a wet Tuesday morning to decide, at last, what should become of the old railway "
    "station. Some members wanted a museum; others argued that a town of eleven thousand people could not keep "
    "one open for more than a summer. After two hours of polite disagreement, the chair proposed a compromise: "
    "the ticket hall would become a library, the platforms a market on Saturdays, and the signal box would be "
    "restored by volunteers who had been asking for permission since 1998. Nobody was entirely happy, which, as "
    "the chair observed over coffee, is usually the sign of a fair decision. The council will publish the plans "
    "next month and invite comments from residents before any work begins in the spring."
) * 3

CODE = '''
import json
from dataclasses import dataclass, field


@dataclass
class Inventory:
    items: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int = 1) -> None:
        if count <= 0:
            raise ValueError(f"count must be positive, got {count}")
        self.items[name] = self.items.get(name, 0) + count

    def remove(self, name: str, count: int = 1) -> bool:
        have = self.items.get(name, 0)
        if have < count:
            return False
        self.items[name] = have - count
        if not self.items[name]:
            del self.items[name]
        return True

    def to_json(self) -> str:
        return json.dumps({"items": sorted(self.items.items())}, indent=2)


def main(argv: list[str]) -> int:
    inv = Inventory()
    for arg in argv[1:]:
        name, _, count = arg.partition("=")
        inv.add(name, int(count or 1))
    print(inv.to_json())
    return 0
'''


def test_published_single_string_count_exact() -> None:
    assert tokens.exact_count("tiktoken is great!") == 6
    assert tokens.count_text("") == 0 and tokens.exact_count("") == 0
def test_published_chat_count_o200k_exact() -> None:
    assert tokens.estimate_messages(COOKBOOK, count=tokens.exact_count) == 124
    # the everyday estimate loads no table and lands within a few percent of it
    assert abs(tokens.estimate_messages(COOKBOOK) - 124) / 124 < 0.06
@pytest.mark.parametrize("text", [PROSE, CODE], ids=["prose", "code"])
def test_heuristic_stays_within_8_percent_of_o200k(text: str) -> None:
    real = tokens.exact_count(text)
    assert abs(tokens.count_text(text) - real) / real < 0.08
    # and on plain prose it beats the usual characters / 4 rule, which is off by over 20% here
    if text is PROSE:
        assert abs(heuristic_count(text) - real) < abs(len(text) / 4 - real)


def test_open_models_split_digits() -> None:
    digits = ", ".join(str(n * 7919) for n in range(300))
    assert tokens.profile_for("smollm2") is tokens.OPEN
    assert tokens.profile_for("gpt-4o-mini") is tokens.O200K and tokens.profile_for("x", "openai") is tokens.O200K
    assert tokens.profile_for("meta-llama/Llama-3.3-70B-Instruct") is tokens.O200K
    # o200k reads up to three digits as one token; open tokenizers (Llama 2, Mistral, Qwen, SmolLM) read one each
    assert tokens.count_text(digits, tokens.OPEN) > 1.5 * tokens.count_text(digits, tokens.O200K)


@pytest.mark.parametrize("size", [1_000_000, 10_000_000])
def test_any_length_is_counted_without_error(size: int) -> None:
    text = ("word " * (size // 5 + 1))[:size]
    n = tokens.count_text(text)
    assert 0.8 * size / 5 < n < 1.2 * size / 5
    assert tokens.count_text(text, tokens.OPEN) > 0
    assert abs(tokens.exact_count(text) - size / 5) < 2
    assert tokens.estimate_messages([{"role": "user", "content": text}]) > n


def test_hostile_text_never_raises() -> None:
    for text in ["\x00" * 1000, "\ud800 lone surrogate", "🙂" * 5000, "\u202e" * 10, "a" * 600_000,
                 "\n" * 500_000, "9" * 1_000_000]:
        assert tokens.count_text(text) > 0
        assert tokens.count_text(text, tokens.OPEN) > 0


def test_exact_table_missing_falls_back_to_the_heuristic(monkeypatch: pytest.MonkeyPatch) -> None:
    from lime.tokens import exact

    exact._tokenizer.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    try:
        assert not exact.available()
        assert tokens.exact_count(PROSE) == tokens.count_text(PROSE)
    finally:
        monkeypatch.undo()
        exact._tokenizer.cache_clear()


def test_tools_and_tool_calls_are_priced() -> None:
    spec = ToolSpec("get_weather", "Get the weather for a city.",
                    {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                                                      "unit": {"type": "string", "enum": ["c", "f"]}}})
    base = tokens.estimate_messages([{"role": "user", "content": "Weather in Paris?"}])
    with_tools = tokens.estimate_messages([{"role": "user", "content": "Weather in Paris?"}], [spec])
    wire: list[dict[str, Any]] = [spec.to_wire()]
    assert with_tools == tokens.estimate_messages([{"role": "user", "content": "Weather in Paris?"}], wire)
    assert 30 < with_tools - base < 80
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]}
    assert tokens.estimate_messages([call]) > tokens.estimate_messages([{"role": "assistant", "content": None}])


def test_importing_the_provider_loads_no_http_client_or_tokenizer() -> None:
    code = ("import sys, lime, lime.api, lime.tokens, lime.providers.openai_compat.client, "
            "lime.providers.openai_compat.errors; "
            "bad = [m for m in ('httpx', 'bpe_openai') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
