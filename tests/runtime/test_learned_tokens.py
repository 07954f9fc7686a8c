"""The learned token estimate: what one reported usage teaches, what is stored, and close calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lime import tokens
from lime.tokens import exact, learned

PROSE = ("The committee met on a wet Tuesday morning to decide what should become of the old railway "
         "station, and after two hours of polite disagreement the chair proposed a compromise. ") * 6


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIME_CONFIG_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _server(messages: list[dict[str, str]], answer: str) -> tuple[int, int]:
    """A server whose template adds 30 tokens per request and 5 per message, and whose tokenizer
    counts 1.3x what lime's profile says."""
    text, n, _ = tokens.prompt_parts(messages, None, lambda t: tokens.count_text(t, tokens.OPEN))
    return round(30 + 5 * n + 1.3 * text), round(1.3 * tokens.count_text(answer, tokens.OPEN))


def test_one_usage_moves_estimates_to_the_servers_counts_and_is_stored(home: Path) -> None:
    cal = learned.Calibration("local", "smollm2")
    first = [{"role": "user", "content": "Summarise: " + PROSE}]
    answer = PROSE[:400]
    p, c = _server(first, answer)
    assert abs(cal.prompt(first) / p - 1) > 0.2  # the prior is far off for this server
    cal.observe(first, None, answer, p, c)
    nxt = [{"role": "user", "content": PROSE[100:] + " What happened next?"}]
    p2, c2 = _server(nxt, PROSE[:300])
    assert abs(cal.prompt(nxt) / p2 - 1) < 0.08
    assert abs(cal.completion(PROSE[:300]) / c2 - 1) < 0.08
    stored = json.loads((home / learned.FILE_NAME).read_text())
    assert stored["models"]["local\tsmollm2"]["n"] == 1
    # a new process starts from what was stored
    learned._cache.clear()
    again = learned.for_model("local", "smollm2")
    assert again.n == 1 and again.prompt(nxt) == cal.prompt(nxt)
    assert "learned from 1 response" in again.describe()


def test_a_settled_calibration_is_not_rewritten(home: Path) -> None:
    cal = learned.Calibration("local", "m")
    msgs = [{"role": "user", "content": PROSE}]
    for _ in range(learned.SETTLED_AFTER + 1):
        cal.observe(msgs, None, PROSE[:200], *_server(msgs, PROSE[:200]))
    path = home / learned.FILE_NAME
    before = path.stat().st_mtime_ns, path.read_bytes()
    cal.observe(msgs, None, PROSE[:200], *_server(msgs, PROSE[:200]))
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before
    assert cal.n == learned.SETTLED_AFTER + 2


@pytest.mark.parametrize("content", ['{"models": {"s\\tm": {"P": [[1e999]], "q": "x"}}}', "[1, 2]", "\x00\xff", '{"models": 5}'])
def test_damaged_files_are_ignored(home: Path, content: str) -> None:
    home.mkdir(parents=True)
    (home / learned.FILE_NAME).write_text(content, errors="surrogateescape")
    cal = learned.Calibration("s", "m", entry=learned._load().get("s\tm"))
    assert cal.n == 0 and cal.theta == pytest.approx(learned.PRIOR)
    cal.observe([{"role": "user", "content": "hi"}], None, "hello", 40, 2)  # replaces the file
    assert json.loads((home / learned.FILE_NAME).read_text())["models"]["s\tm"]["n"] == 1


def test_absurd_usage_is_not_learned(home: Path) -> None:
    cal = learned.Calibration("s", "m")
    for prompt, completion in ((0, 5), (-3, 5), (10**20, 5), (40, -1)):
        cal.observe([{"role": "user", "content": "hi"}], None, "hello", prompt, completion)
    assert cal.n == 0 and not (home / learned.FILE_NAME).exists()


def test_close_calls_use_the_exact_table_on_openai_models(home: Path) -> None:
    if not exact.available():
        pytest.skip("bpe-openai is not installed")
    cal = learned.Calibration("openai", "gpt-4o")
    msgs = [{"role": "user", "content": PROSE}]
    est = cal.prompt(msgs)
    exact_est = tokens.estimate_messages(msgs, count=tokens.exact_count)
    assert est != exact_est
    assert cal.prompt_near(msgs, None, est) == exact_est  # at the limit: exact
    assert cal.prompt_near(msgs, None, est * 3) == est  # far from it: the estimate
