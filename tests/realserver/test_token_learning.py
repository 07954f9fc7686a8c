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
    "prose": ["Write a short paragraph about the history of railway stations in small towns.",
              "Explain in simple terms why the sea is salty."],
    "code": ["Explain what this Python code does:\n\n" + CODE,
             "Write a Python function that returns the squares of the even numbers in a list, with comments."],
    "digits": ["Add up the numbers in each row:\n\n" + DIGITS,
               "List the numbers from 1 to 40, comma separated, then their sum."],
}


@pytest.fixture
def route(server: manager.ServerInfo) -> Route:
    return activate(resolve_route("smollm2"))


def _ask(route: Route, messages: list[dict[str, str]]) -> Completion:
    with ChatClient(route) as client:
        stream = client.stream(messages, RequestOptions(max_tokens=120, temperature=0))
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
    for kind, prompts in NEXT.items():
        # two prompts per kind, compared in sum: one text's estimate varies a few percent either way
        est_p = real_p = est_a = real_a = 0
        for text in prompts:
            messages = [{"role": "user", "content": text}]
            est_p += cal.prompt(messages)
            c = _ask(route, messages)
            assert c.usage is not None and not c.usage.estimated and c.text
            real_p += c.usage.prompt_tokens
            est_a += cal.completion(c.text)
            real_a += c.usage.completion_tokens
        p, a = est_p / real_p, est_a / real_a
        report.append(f"[measure] {kind}: prompts {est_p}/{real_p} = {p:.3f}, answers {est_a}/{real_a} = {a:.3f}")
        worst = max(worst, abs(p - 1), abs(a - 1))
    report.append(f"[measure] {cal.describe()}")
    print("\n".join(report))
    assert worst <= 0.10, "\n".join(report)
