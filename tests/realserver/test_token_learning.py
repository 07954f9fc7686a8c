"""Estimates learn SmolLM2's counts: after one reported usage, lime's estimates of the next prompts
and answers are within 10% of what the real llama.cpp server counts, for prose, code and digits."""

from __future__ import annotations

from pathlib import Path

import pytest

from lime.catalog.routing import Route, resolve_route
from lime.local import manager
from lime.local.connect import activate
from lime.providers.openai_compat import ChatClient
from lime.providers.openai_compat.types import Completion, RequestOptions
from lime.tokens import learned

PROSE = (Path(__file__).parent / "data" / "prose.txt").read_text()
CODE = (Path(__file__).parents[2] / "src" / "lime" / "storage.py").read_text()[:1400]
DIGITS = "\n".join(f"{i * 7919 % 10007},{i * 104729 % 99991},{i ** 3}" for i in range(1, 50))

NEXT = {
    "prose": "Write a short paragraph about the history of railway stations in small towns.",
    "code": "Explain what this Python code does:\n\n" + CODE + "\n\nThen write a Python function that sums a list.",
    "digits": "Add up the numbers in each row:\n\n" + DIGITS + "\n\nList the numbers from 1 to 40, comma separated.",
}


@pytest.fixture
def route(server: manager.ServerInfo) -> Route:
    return activate(resolve_route("smollm2"))


def _ask(route: Route, messages: list[dict[str, str]]) -> Completion:
    with ChatClient(route) as client:
        stream = client.stream(messages, RequestOptions(max_tokens=100, temperature=0))
        for _ in stream:
            pass
        return stream.completion


def test_one_reported_usage_calibrates_prompts_and_answers(route: Route) -> None:
    cal = learned.Calibration(route.service, route.wire_model)
    assert cal.profile.name == "open" and cal.n == 0
    first = [{"role": "user", "content": "Summarise this text in two sentences:\n\n" + PROSE}]
    c = _ask(route, first)
    assert c.usage is not None and not c.usage.estimated
    before = cal.prompt(first) / c.usage.prompt_tokens
    cal.observe(first, None, c.text, c.usage.prompt_tokens, c.usage.completion_tokens)
    report = [f"\n[measure] first prompt: estimate / server = {before:.3f} before learning"]
    worst = 0.0
    for kind, text in NEXT.items():
        messages = [{"role": "user", "content": text}]
        estimate = cal.prompt(messages)
        c = _ask(route, messages)
        assert c.usage is not None and not c.usage.estimated and c.text
        p = estimate / c.usage.prompt_tokens
        a = cal.completion(c.text) / c.usage.completion_tokens
        report.append(f"[measure] {kind}: prompt {estimate}/{c.usage.prompt_tokens} = {p:.3f}, "
                      f"answer {cal.completion(c.text)}/{c.usage.completion_tokens} = {a:.3f}")
        worst = max(worst, abs(p - 1), abs(a - 1))
    report.append(f"[measure] {cal.describe()}")
    print("\n".join(report))
    assert worst <= 0.10, "\n".join(report)
