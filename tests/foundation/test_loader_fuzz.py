"""Property tests: whatever a session file, models.json or credentials.json holds, loading it gives a
value or one of lime's errors, never another exception. Time-boxed (few examples, no per-example
deadline); ``HYPOTHESIS_PROFILE=thorough`` runs many more."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lime.auth import store
from lime.catalog.entries import KNOWN_FIELDS
from lime.catalog.store import load_catalog, load_user_models
from lime.errors import LimeError
from lime.runtime import session as sessions
from lime.runtime.compaction import is_summary
from lime.runtime.session import Session, SessionError, message_problem

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

WORK = Path(tempfile.mkdtemp(prefix="lime-fuzz-"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _shaped(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the right field names and values of any type: what a broken writer produces."""
    return st.dictionaries(st.sampled_from(keys), json_values | st.sampled_from(keys), max_size=len(keys))


messages = st.one_of(
    _shaped(["role", "content", "tool_calls", "tool_call_id", "name"]),
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool", "system", "x"]),
                           "content": st.none() | st.text(max_size=20)},
                          optional={"tool_calls": st.lists(st.fixed_dictionaries(
                              {"id": st.sampled_from(["a", "b"]) | json_values,
                               "function": st.fixed_dictionaries({"name": st.text(max_size=5),
                                                                  "arguments": st.text(max_size=5)})}), max_size=3),
                              "tool_call_id": st.sampled_from(["a", "b"]) | json_values}),
)
events = st.one_of(
    st.fixed_dictionaries({"type": st.just("message"), "message": messages},
                          optional={"usage": json_values | _shaped(["prompt_tokens", "completion_tokens", "estimated"]),
                                    "stats": json_values}),
    st.fixed_dictionaries({"type": st.sampled_from(["compaction", "history", "model", "settings", "clear",
                                                    "usage", "partial", "session", "other"])},
                          optional={"summary_message": messages, "keep_last": json_values,
                                    "messages": st.lists(messages, max_size=4), "model": json_values,
                                    "settings": json_values, "usage": json_values, "text": json_values}),
    _shaped(["type", "message", "usage", "stats"]),
)
lines = st.one_of(events.map(lambda e: json.dumps(e).encode()), st.binary(max_size=40),
                  st.sampled_from([b"", b"{", b"[" * 300 + b"]" * 300, b'"text"', b"\xff\xfe"]))


def _valid_history(msgs: list[dict[str, Any]]) -> None:
    """What the server is sent: well-shaped messages, every tool call answered, no user after user."""
    pending: list[str] = []
    for prev, msg in zip([None, *msgs], msgs, strict=False):
        assert message_problem(msg) is None
        if msg["role"] == "tool":
            assert msg["tool_call_id"] in pending
            pending.remove(msg["tool_call_id"])
        else:
            assert not pending
            if prev is not None and prev["role"] == msg["role"] == "user":
                assert is_summary(prev) or is_summary(msg)
        if msg["role"] == "assistant" and msg.get("tool_calls"):
            pending = [c["id"] for c in msg["tool_calls"]]


@given(st.lists(lines, max_size=12), st.booleans())
def test_session_loader_gives_a_valid_history_or_a_session_error(body: list[bytes], newline: bool) -> None:
    directory = WORK / "sessions"
    directory.mkdir(exist_ok=True)
    path = directory / "20260101-000000-000000.jsonl"
    header = json.dumps({"type": "session", "version": 1, "id": "20260101-000000-000000", "model": "m"}).encode()
    path.write_bytes(b"\n".join([header, *body]) + (b"\n" if newline else b""))
    try:
        s = Session.load(path)
    except SessionError:
        return
    _valid_history(s.messages)
    s.secrets = []
    s.append({"role": "user", "content": "next"})
    s.close()
    again = Session.load(path)
    _valid_history(again.messages)
    info = sessions.latest_summary(directory)
    assert info is None or info["id"] == "20260101-000000-000000"


@given(st.binary(max_size=200) | st.lists(lines, max_size=6).map(b"\n".join))
def test_session_loader_without_a_good_header(data: bytes) -> None:
    path = WORK / "headless.jsonl"
    path.write_bytes(data)
    with contextlib.suppress(SessionError):
        _valid_history(Session.load(path).messages)


model_entries = st.one_of(json_values, _shaped(sorted(KNOWN_FIELDS)),
                          st.fixed_dictionaries({"slug": st.text(min_size=1, max_size=8),
                                                 "provider": st.sampled_from(["openai-compat", "openai", "x"]),
                                                 "context_window": json_values}, optional={
                                                     k: json_values for k in sorted(KNOWN_FIELDS)
                                                     if k not in ("slug", "provider", "context_window")}))
model_files = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(model_entries, max_size=5).map(lambda m: json.dumps({"models": m}).encode()),
    st.lists(model_entries, max_size=5).map(lambda m: json.dumps(m).encode()),
)


@given(model_files)
def test_models_file_loader_gives_entries_or_a_config_error(data: bytes) -> None:
    path = WORK / "models.json"
    path.write_bytes(data)
    try:
        user = load_user_models(path)
    except LimeError:
        user = None
    if user is not None:
        assert all(e.context_window > 0 and e.slug for e in user.entries)
    catalog = load_catalog(path)  # never fatal: a broken file is reported, the built-ins remain
    assert catalog.get("gpt-5.4") is not None


bucket_values = st.one_of(json_values, _shaped(["api_key", "base_url", "key_env", "headers"]))
credential_files = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["openai_compat:groq", "openai_compat:x", "", "openai"]), bucket_values,
                    max_size=4).map(lambda b: json.dumps({"buckets": b}).encode()),
)


@given(credential_files)
def test_credentials_loader_gives_buckets_or_a_config_error(data: bytes) -> None:
    from lime.auth.resolve import resolve_credential
    from lime.catalog.presets import get_preset

    home = WORK / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    (home / "credentials.json").write_bytes(data)
    (home / "credentials.json").chmod(0o600)
    old = os.environ.get("LIME_CONFIG_HOME")
    os.environ["LIME_CONFIG_HOME"] = str(home)
    store._cache.clear()
    try:
        try:
            buckets = store.load_all()
        except LimeError:
            return
        for name, cred in buckets.items():
            assert cred.bucket == name and isinstance(cred.api_key, str)
        for service in ("groq", "x"):
            try:
                resolved = resolve_credential(service, get_preset(service))
            except LimeError:
                continue
            assert resolved.api_key is None or store.key_problem(resolved.api_key) is None
    finally:
        if old is None:
            os.environ.pop("LIME_CONFIG_HOME", None)
        else:
            os.environ["LIME_CONFIG_HOME"] = old
        store._cache.clear()
