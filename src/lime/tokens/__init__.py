"""Offline token counts for budgeting and for usage when a server reports none.

The count uses OpenAI's o200k tokenizer from ``bpe_openai`` (bundled data, no download). Importing
it costs about half a second, so it loads on first use, never at start-up; without it a calibrated
heuristic stands in. Message overhead follows OpenAI's chat format (3 tokens per message, 1 per
name, 3 to prime the reply), and tool definitions are priced the way OpenAI renders them.
Other families' tokenizers (Llama, Mistral, Qwen, Gemma...) split text differently; see
``docs/python-api.md`` for how far off the estimate may be for them.

May import: catalog, auth, config, storage, errors and the leaf modules; never providers or above.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from lime.tokens.heuristic import heuristic_count

__all__ = ["count_text", "estimate_messages", "estimate_tools", "heuristic_count", "tokenizer_name"]

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
TOKENS_PER_IMAGE = 85  # a low-detail image; high detail costs more, which we cannot know offline
TOKENS_PER_TOOL_CALL = 7


@functools.lru_cache(maxsize=2)
def _encoding(name: str = "o200k_base") -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its data loader uses a deprecated API
        try:
            import bpe_openai
        except ImportError:
            return None
        try:
            enc = bpe_openai.get_encoding(name)
            enc.encode_ordinary("warm up")  # loads the merge table now, under the filter
        except Exception:  # a damaged install: fall back rather than fail a request
            return None
    return enc


def tokenizer_name() -> str:
    """``o200k_base`` when the real tokenizer is available, else ``heuristic``."""
    return "o200k_base" if _encoding() is not None else "heuristic"


def count_text(text: str) -> int:
    if not text:
        return 0
    enc = _encoding()
    if enc is None:
        return heuristic_count(text)
    return len(enc.encode_ordinary(text))


def _content_tokens(content: Any) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return count_text(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    total += count_text(part["text"])
                elif part.get("type") in ("image_url", "image", "input_image"):
                    total += TOKENS_PER_IMAGE
            elif isinstance(part, str):
                total += count_text(part)
        return total
    return count_text(json.dumps(content, ensure_ascii=False))


def estimate_messages(messages: Iterable[dict[str, Any]], tools: Iterable[Any] | None = None) -> int:
    """Prompt tokens of a chat request: messages in OpenAI's chat format, plus tool definitions."""
    total = 0
    for m in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in m.items():
            if key == "content":
                total += _content_tokens(value)
            elif key == "tool_calls" and isinstance(value, list):
                for call in value:
                    fn = call.get("function", {}) if isinstance(call, dict) else {}
                    total += TOKENS_PER_TOOL_CALL + count_text(str(fn.get("name", ""))) + count_text(
                        str(fn.get("arguments", "")))
            elif key == "reasoning_content" or key.startswith("_"):
                continue  # not part of the prompt the model sees on most servers
            elif isinstance(value, str):
                total += count_text(value)
                if key == "name":
                    total += TOKENS_PER_NAME
    total += REPLY_PRIMING
    if tools:
        total += estimate_tools(tools)
    return total


def estimate_tools(tools: Iterable[Any]) -> int:
    """Tool definitions as OpenAI renders them (a TypeScript-like namespace), priced per part."""
    total = 0
    any_tool = False
    for t in tools:
        fn: dict[str, Any]
        if isinstance(t, dict):
            fn = t.get("function", t)
        else:  # ToolSpec
            fn = {"name": t.name, "description": t.description, "parameters": t.parameters}
        any_tool = True
        total += 7
        desc = str(fn.get("description") or "").rstrip(".")
        total += count_text(f"{fn.get('name', '')}:{desc}")
        params = fn.get("parameters") or {}
        props = params.get("properties") if isinstance(params, dict) else None
        if isinstance(props, dict) and props:
            total += 3
            for key, spec in props.items():
                total += 3
                spec = spec if isinstance(spec, dict) else {}
                enum = spec.get("enum")
                if isinstance(enum, list):
                    total -= 3
                    for item in enum:
                        total += 3 + count_text(str(item))
                ptype = spec.get("type", "")
                pdesc = str(spec.get("description", "")).rstrip(".")
                total += count_text(f"{key}:{ptype}:{pdesc}")
                nested = {k: v for k, v in spec.items() if k not in ("type", "description", "enum")}
                if nested:
                    total += count_text(json.dumps(nested, separators=(",", ":")))
    return total + (12 if any_tool else 0)
