"""The cheap byte bound that lets short conversations skip the tokenizer must never undercount."""

from __future__ import annotations

import pytest

from lime.runtime.agent import byte_bound
from lime.runtime.permissions import Policy
from lime.tokens import estimate_messages

SAMPLES = [
    "Say hello.",
    "def f(x):\n    return {k: v for k, v in x.items() if v is not None}\n" * 20,
    "日本語のテキストと中文文本，还有한국어 텍스트。" * 30,
    "emoji 🎉🚀👩‍💻 and accents éèêë " * 40,
    " ".join(str(i) for i in range(2000)),
    "\n\n\n   \t\t  " * 100,
]


@pytest.mark.parametrize("text", SAMPLES)
def test_byte_bound_is_an_upper_bound(text: str) -> None:
    tools = [t.spec() for t in Policy().offered()]
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": text},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "grep", "arguments": '{"pattern": "x"}'}}]},
                {"role": "tool", "tool_call_id": "c", "content": text}]
    assert estimate_messages(messages, tools) <= byte_bound(messages, tools)
    assert estimate_messages(messages[:2], None) <= byte_bound(messages[:2], None)
