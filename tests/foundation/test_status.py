"""`lime status` reports the latest session's token counts (never a key)."""

from __future__ import annotations

from lime.runtime.session import Session

from .conftest import Lime


def test_status_shows_latest_session_usage(lime: Lime) -> None:
    s = Session.new("grok-4")
    s.append({"role": "user", "content": "hi"})
    s.append({"role": "assistant", "content": "hello"},
             usage={"prompt_tokens": 1200, "completion_tokens": 34, "estimated": True})
    s.close()
    res = lime("status", env={"XAI_API_KEY": "xai-secret-key-000000000009", "LIME_MODEL": "grok-4"})
    assert res.code == 0, res
    assert f"latest session:  {s.id} (grok-4, 2 messages)" in res.out
    assert "1,200 prompt + 34 completion tokens over 1 request (partly estimated)" in res.out
    assert "xai-secret-key" not in res.out and "env XAI_API_KEY" in res.out
