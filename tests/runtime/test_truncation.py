"""When reported prompt tokens say the server cut the conversation, and when they do not."""

from __future__ import annotations

from lime.runtime.truncation import truncated


def never() -> int:
    raise AssertionError("the estimate must not be computed when the byte bound already rules truncation out")


def test_ollama_cutting_at_num_ctx_is_seen() -> None:
    assert truncated(4096, 60_000, lambda: 11_000) == 11_000


def test_tokenizer_differences_are_not_truncation() -> None:
    assert truncated(8_000, 60_000, lambda: 11_000) is None      # 27% apart: another tokenizer
    assert truncated(581, 9_000, lambda: 1_172) is None          # half, but only a few hundred tokens
    assert truncated(300, 900, never) is None                    # a short prompt says nothing
    assert truncated(5_000, 9_000, never) is None                # the byte bound already covers it
    assert truncated(0, 60_000, never) is None                   # no count reported
