"""Offline token counts for budgeting and for usage when a server reports none.

Counts come from ``heuristic``: one regular-expression pass priced per kind of piece, with a
profile per tokenizer family (``O200K`` for OpenAI's models, ``OPEN`` for the open models served
by llama.cpp, vLLM, Ollama and most proxies, which split every digit). It costs about 1 ms per
100 kB, loads nothing and takes any length. ``learned`` then corrects the estimate per service and
model from the counts servers report. OpenAI's exact o200k table (``exact``) is loaded only for a
budget decision on an OpenAI-family model that the estimate leaves too close to call.
Message overhead follows OpenAI's chat format (3 tokens per message, 1 per name, 3 to prime the
reply), and tool definitions are priced the way OpenAI renders them.

May import: catalog, auth, config, storage, errors and the leaf modules; never providers or above.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from lime.tokens.heuristic import O200K, OPEN, Profile, heuristic_count

__all__ = ["O200K", "OPEN", "Profile", "count_text", "estimate_messages", "estimate_tools", "heuristic_count",
           "profile_for", "tokenizer_name"]

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
TOKENS_PER_IMAGE = 85  # a low-detail image; high detail costs more, which we cannot know offline
TOKENS_PER_TOOL_CALL = 7


# Model names whose tokenizer groups digits by three like o200k (OpenAI's, Llama 3's, DeepSeek's).
_O200K_FAMILY = re.compile(r"(^|[/:_-])(gpt|o[1-9]|chatgpt|codex|llama-?3|deepseek)", re.I)

Counter = Callable[[str], int]


def profile_for(model: str, service: str = "") -> Profile:
    """The heuristic profile for a wire model id (and its service): OpenAI-like or open-model-like."""
    if service == "openai" or _O200K_FAMILY.search(model or ""):
        return O200K
    return OPEN


def tokenizer_name() -> str:
    return "heuristic"


@functools.lru_cache(maxsize=4096)
def _count_long(text: str, profile: Profile) -> int:
    return heuristic_count(text, profile)


def count_text(text: str, profile: Profile = O200K) -> int:
    """Tokens of ``text`` under ``profile`` (any length; never raises)."""
    if not text:
        return 0
    # Conversations are re-estimated before every request: long texts are counted once.
    return _count_long(text, profile) if len(text) > 512 else heuristic_count(text, profile)


def exact_count(text: str) -> int:
    """OpenAI's exact o200k count, or the heuristic one when the tokenizer is not installed."""
    from lime.tokens import exact

    n = exact.o200k_count(text)
    return heuristic_count(text, O200K) if n is None else n


def _content_tokens(content: Any, count: Counter) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return count(content)
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    total += count(part["text"])
                elif part.get("type") in ("image_url", "image", "input_image"):
                    total += TOKENS_PER_IMAGE
            elif isinstance(part, str):
                total += count(part)
        return total
    return count(json.dumps(content, ensure_ascii=False))


def prompt_parts(messages: Iterable[dict[str, Any]], tools: Iterable[Any] | None = None,
                 count: Counter = count_text) -> tuple[int, int, bool]:
    """What a prompt is made of: (tokens of its text and tool definitions, messages, has a system message).

    A chat template adds a fixed cost per request and per message on top of the text; ``learned``
    fits those per model, ``estimate_messages`` uses OpenAI's."""
    text = 0
    n = 0
    system = False
    for m in messages:
        n += 1
        for key, value in m.items():
            if key == "content":
                text += _content_tokens(value, count)
            elif key == "tool_calls" and isinstance(value, list):
                for call in value:
                    fn = call.get("function", {}) if isinstance(call, dict) else {}
                    text += TOKENS_PER_TOOL_CALL + count(str(fn.get("name", ""))) + count(str(fn.get("arguments", "")))
            elif key == "reasoning_content" or key.startswith("_"):
                continue  # not part of the prompt the model sees on most servers
            elif isinstance(value, str):
                if key == "role" and value in ("system", "developer"):
                    system = True
                text += count(value)
                if key == "name":
                    text += TOKENS_PER_NAME
    if tools:
        text += estimate_tools(tools, count)
    return text, n, system


def estimate_messages(messages: Iterable[dict[str, Any]], tools: Iterable[Any] | None = None,
                      count: Counter = count_text) -> int:
    """Prompt tokens of a chat request: messages in OpenAI's chat format, plus tool definitions."""
    text, n, _ = prompt_parts(messages, tools, count)
    return text + TOKENS_PER_MESSAGE * n + REPLY_PRIMING


def estimate_tools(tools: Iterable[Any], count: Counter = count_text) -> int:
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
        total += count(f"{fn.get('name', '')}:{desc}")
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
                        total += 3 + count(str(item))
                ptype = spec.get("type", "")
                pdesc = str(spec.get("description", "")).rstrip(".")
                total += count(f"{key}:{ptype}:{pdesc}")
                nested = {k: v for k, v in spec.items() if k not in ("type", "description", "enum")}
                if nested:
                    total += count(json.dumps(nested, separators=(",", ":")))
    return total + (12 if any_tool else 0)
