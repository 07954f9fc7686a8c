"""Learned lessons: keyed by service, base URL and model; dated; forgotten on request or after a week."""

from __future__ import annotations

import json
import time
from pathlib import Path

from lime.providers.openai_compat import compat_memory
from lime.providers.openai_compat.compat_memory import LESSON_TTL, Lessons

URL = "http://127.0.0.1:9/v1"


def test_a_lesson_belongs_to_one_endpoint(lime_home: Path) -> None:
    assert compat_memory.save("proxy", "m", Lessons(drop={"verbosity"}), URL)
    assert compat_memory.load("proxy", "m", URL).drop == {"verbosity"}
    assert compat_memory.load("proxy", "m", URL + "/").drop == {"verbosity"}
    assert compat_memory.load("proxy", "m", "http://other:9/v1").empty()  # re-pointed: a clean slate
    assert compat_memory.load("proxy", "other-model", URL).empty()
    assert compat_memory.load("other", "m", URL).empty()


def test_a_lesson_expires_after_a_week(lime_home: Path) -> None:
    compat_memory.save("proxy", "m", Lessons(drop={"verbosity", "store"}), URL)
    path = lime_home / "compat.json"
    data = json.loads(path.read_text())
    (entry,) = data["endpoints"].values()
    entry["m"]["drop"]["verbosity"] = time.time() - LESSON_TTL - 60
    path.write_text(json.dumps(data))
    lessons = compat_memory.load("proxy", "m", URL)
    assert lessons.drop == {"store"}
    assert lessons.describe() == ["not sending 'store'"]


def test_forget_one_model_and_count(lime_home: Path) -> None:
    compat_memory.save("proxy", "m", Lessons(drop={"verbosity"}, max_tokens_field="max_completion_tokens"), URL)
    compat_memory.save("proxy", "n", Lessons(strip_message_fields={"reasoning_content"}), URL)
    assert compat_memory.forget("proxy", URL, "m") == 2
    assert compat_memory.load("proxy", "m", URL).empty()
    assert compat_memory.load("proxy", "n", URL).strip_message_fields == {"reasoning_content"}
    assert compat_memory.forget("proxy") == 1
    assert compat_memory.forget("proxy") == 0


def test_an_old_or_damaged_memory_is_ignored_not_fatal(lime_home: Path) -> None:
    path = lime_home / "compat.json"
    lime_home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "services": {"proxy": {"m": {"drop": ["verbosity"]}}}}))
    assert compat_memory.load("proxy", "m", URL).empty()
    path.write_text(json.dumps({"version": 2, "endpoints": {f"proxy {URL}": {"m": {
        "drop": {"verbosity": "yesterday", "store": True, "future": 1e18, "n": time.time() - 5},
        "max_tokens_field": {"value": "bogus"}}}}}))
    lessons = compat_memory.load("proxy", "m", URL)
    assert lessons.drop == {"n"} and lessons.max_tokens_field is None  # only a sane date counts
    path.write_text("{not json")
    assert compat_memory.load("proxy", "m", URL).empty()
    assert compat_memory.save("proxy", "m", Lessons(drop={"seed"}), URL)  # rewritten cleanly
    assert compat_memory.load("proxy", "m", URL).drop == {"seed"}
