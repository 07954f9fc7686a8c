"""Estimates learn each server's counts: one reported usage calibrates the next estimates."""

from __future__ import annotations

import json

from support.fakeserver import fake_prompt_tokens, reply

from .conftest import Lime

PROSE = ("The committee met on a wet Tuesday morning to decide what should become of the old railway "
         "station, and after two hours of polite disagreement the chair proposed a compromise. ") * 12
OTHER = ("Volunteers restored the signal box over three summers; the market on the platforms opened in "
         "spring and the library in the ticket hall has stayed busy ever since. ") * 15


def test_one_reported_usage_calibrates_the_next_estimate(lime: Lime) -> None:
    # the fake server counts characters / 4 + 4 per message: far from any real tokenizer
    proc = lime.run("status")
    assert "not yet calibrated" in proc.stdout
    lime.server.enqueue(reply("Noted."), reply("Noted again.", usage=None))
    proc = lime.run("--json", "-p", PROSE)
    assert proc.returncode == 0 and json.loads(proc.stdout)["usage"]["estimated"] is False
    stored = json.loads((lime.home / "token-calibration.json").read_text())
    assert list(stored["models"]) == ["fake\tfake-model"]
    proc = lime.run("status")
    assert "learned from 1 response" in proc.stdout, proc.stdout

    proc = lime.run("--json", "-p", OTHER)  # this time the server reports nothing: lime estimates
    usage = json.loads(proc.stdout)["usage"]
    real = fake_prompt_tokens(lime.server.last.json)
    assert usage["estimated"] is True
    assert abs(usage["prompt_tokens"] - real) / real < 0.10, (usage, real)


def test_a_damaged_calibration_file_is_ignored_and_replaced(lime: Lime) -> None:
    lime.home.mkdir(parents=True, exist_ok=True)
    (lime.home / "token-calibration.json").write_text('{"models": {"fake\\tfake-model": {"P": "x", "q": [1e999]}}}')
    lime.server.enqueue(reply("Fine."))
    proc = lime.run("-p", "hello")
    assert proc.returncode == 0 and proc.stdout == "Fine.\n", proc.stderr
    assert "not yet calibrated" not in lime.run("status").stdout
