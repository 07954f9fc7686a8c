"""What a chunk or a ``chat.completion`` body must look like, to name the field a server got wrong.

The stream processor does not check types field by field on every chunk (that would cost
throughput on every token); it reads optimistically and, only when that fails, asks
:func:`explain` which field broke the rules. Numbers lime keeps (token counts) are checked where
they are read, by :func:`count`.
"""

from __future__ import annotations

import math
from typing import Any

from lime.providers.openai_compat.errors import BadResponse

__all__ = ["MAX_COUNT", "count", "explain"]

MAX_COUNT = 1 << 53  # more tokens than any model has seen; anything larger is a broken number


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}" if len(repr(value)) <= 24 else "a huge number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _bad(field: str, value: Any, expected: str) -> BadResponse:
    return BadResponse(f"is {_what(value)}, expected {expected}", field)


def count(value: Any, field: str) -> int:
    """A token count: a whole number from 0 to :data:`MAX_COUNT` (``12``, ``12.0``, ``"12"``); null is 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _bad(field, value, "a token count")
    whole = (isinstance(value, int)
             or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
             or (isinstance(value, str) and value.isdigit() and value.isascii() and len(value) <= 16))
    if not whole:
        raise _bad(field, value, "a token count")
    n = int(value)
    if not 0 <= n <= MAX_COUNT:
        raise _bad(field, value, "a token count")
    return n


def _text_or_parts(value: Any, field: str) -> BadResponse | None:
    if value is None or isinstance(value, str):
        return None
    if not isinstance(value, list):
        return _bad(field, value, "text or a list of content parts")
    for i, part in enumerate(value):
        if not isinstance(part, dict):
            return _bad(f"{field}[{i}]", part, "a content part object")
        if not isinstance(part.get("text", ""), str):
            return _bad(f"{field}[{i}].text", part.get("text"), "text")
    return None


def _tool_calls(value: Any, field: str) -> BadResponse | None:
    if value is None:
        return None
    if not isinstance(value, list):
        return _bad(field, value, "a list of tool calls")
    for i, tc in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(tc, dict):
            return _bad(at, tc, "a tool call object")
        idx = tc.get("index")
        if idx is not None and (isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx <= MAX_COUNT):
            return _bad(f"{at}.index", idx, "a small whole number")
        if tc.get("id") is not None and not isinstance(tc.get("id"), str):
            return _bad(f"{at}.id", tc.get("id"), "text")
        fn = tc.get("function")
        if fn is None:
            continue
        if not isinstance(fn, dict):
            return _bad(f"{at}.function", fn, "an object")
        if fn.get("name") is not None and not isinstance(fn.get("name"), str):
            return _bad(f"{at}.function.name", fn.get("name"), "text")
        args = fn.get("arguments")
        if args is not None and not isinstance(args, str | dict):
            return _bad(f"{at}.function.arguments", args, "JSON text")
    return None


def _message(value: Any, field: str) -> BadResponse | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return _bad(field, value, "an object")
    problem = _text_or_parts(value.get("content"), f"{field}.content")
    if problem is not None:
        return problem
    for name in ("reasoning_content", "reasoning"):
        if not isinstance(value.get(name) or "", str):
            return _bad(f"{field}.{name}", value.get(name), "text")
    return _tool_calls(value.get("tool_calls"), f"{field}.tool_calls")


def _usage(value: Any, field: str) -> BadResponse | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return _bad(field, value, "an object")
    for name in ("prompt_tokens", "completion_tokens", "total_tokens", "input_tokens", "output_tokens"):
        try:
            count(value.get(name), f"{field}.{name}")
        except BadResponse as exc:
            return exc
    details = value.get("prompt_tokens_details")
    if details is not None and not isinstance(details, dict):
        return _bad(f"{field}.prompt_tokens_details", details, "an object")
    if isinstance(details, dict):
        try:
            for name in ("cached_tokens", "cache_write_tokens"):
                count(details.get(name), f"{field}.prompt_tokens_details.{name}")
        except BadResponse as exc:
            return exc
    return None


def explain(obj: Any, *, body: bool = False) -> BadResponse:
    """The first field of a chunk (or, with ``body``, a whole completion) that is not what the API
    says; a generic error when every field lime reads looks right."""
    if not isinstance(obj, dict):
        return BadResponse(f"the {'response' if body else 'stream chunk'} is {_what(obj)}, expected an object")
    choices = obj.get("choices")
    if choices is not None and not isinstance(choices, list):
        return _bad("choices", choices, "a list")
    for i, ch in enumerate(choices or ()):
        if not isinstance(ch, dict):
            return _bad(f"choices[{i}]", ch, "an object")
        for name in ("delta", "message"):
            problem = _message(ch.get(name), f"choices[{i}].{name}")
            if problem is not None:
                return problem
        if not isinstance(ch.get("finish_reason") or "", str):
            return _bad(f"choices[{i}].finish_reason", ch.get("finish_reason"), "text")
    for where in ("usage", "x_groq.usage"):
        holder = obj.get("x_groq") if where.startswith("x_groq") else obj
        problem = _usage(holder.get("usage") if isinstance(holder, dict) else None, where)
        if problem is not None:
            return problem
    if not isinstance(obj.get("model") or "", str):
        return _bad("model", obj.get("model"), "text")
    return BadResponse(f"the {'response' if body else 'stream chunk'} has a shape lime does not understand")
