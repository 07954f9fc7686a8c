"""Compaction: where to cut a conversation, and the summary request for the part before the cut.

The cut never falls between an assistant message that calls tools and the tool results that
answer it (a ``tool`` message is never the first one kept), prefers the start of a user turn, and
keeps as many recent messages verbatim as fit in the keep budget. The summary request is itself
trimmed to fit the model's window, because a summary request that overflows is the classic way
compaction fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]
Counter = Callable[[str], int]

SUMMARY_PREFIX = "[Summary of the earlier part of this conversation, which was compacted to save context]\n\n"
SUMMARY_SYSTEM = (
    "You summarise a conversation between a user and an AI assistant so that the assistant can carry on "
    "without the original messages. Keep: the user's goals and requests, decisions made, facts learned, "
    "names of files, functions and commands involved, what was changed and what remains to do, and any "
    "open question. Be concise and factual; write in the same language as the conversation. "
    "Output only the summary."
)
PER_MESSAGE_CHARS = 6000
PER_TOOL_RESULT_CHARS = 2000
OMITTED = "[... earlier messages omitted to fit ...]"
DROPPED_RESULT = "[tool result dropped when compacting"
# A summary needs room to say anything useful; an earlier part that would allow less is kept as it is.
MIN_SUMMARY_TOKENS = 64


def message_text(msg: Message) -> str:
    content = msg.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "\n".join(p for p in parts if isinstance(p, str))
    return ""


def message_tokens(msg: Message, count: Counter) -> int:
    total = 4 + count(message_text(msg))
    for call in msg.get("tool_calls") or []:
        fn = call.get("function") or {}
        total += 8 + count(str(fn.get("name", ""))) + count(str(fn.get("arguments", "")))
    return total


def head_length(messages: list[Message]) -> int:
    """Leading system message(s) are never compacted."""
    n = 0
    while n < len(messages) and messages[n].get("role") == "system":
        n += 1
    return n


def is_summary(msg: Message) -> bool:
    return msg.get("role") == "user" and message_text(msg).startswith(SUMMARY_PREFIX)


@dataclass
class Split:
    """Where compaction cuts: the messages before ``cut`` are summarised, the rest kept verbatim."""

    cut: int  # index of the first message kept verbatim
    keep_last: int  # len(messages) - cut


def choose_split(messages: list[Message], keep_budget: int, count: Counter) -> Split | None:
    """Where the verbatim tail starts, or None when there is nothing older to summarise."""
    start = head_length(messages)
    n = len(messages)
    if n - start < 2:
        return None
    sizes = [message_tokens(m, count) for m in messages]
    suffix = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + sizes[i]
    valid = [i for i in range(start + 1, n) if messages[i].get("role") != "tool"]
    if not valid:
        return None
    # Re-summarising a previous summary alone gains nothing: there must be something else before the cut.
    valid = [i for i in valid if not (i == start + 1 and is_summary(messages[start]))]
    if not valid:
        return None
    fitting_user = [i for i in valid if messages[i].get("role") == "user" and suffix[i] <= keep_budget]
    fitting_any = [i for i in valid if suffix[i] <= keep_budget]
    if fitting_user:
        cut = fitting_user[0]
    elif fitting_any:
        cut = fitting_any[0]
    else:
        cut = valid[-1]
    return Split(cut=cut, keep_last=n - cut)


def shrink_tool_results(messages: list[Message], budget: int, count: Counter) -> list[Message]:
    """Shorten tool results, oldest first, until the messages fit ``budget`` tokens.

    Long results are cut to their head and tail first; if that is not enough, whole results are
    replaced by a one-line note, still oldest first (the newest are what the model is working on).
    Returns ``messages`` itself when nothing had to change.
    """
    sizes = [message_tokens(m, count) for m in messages]
    total = sum(sizes)
    if total <= budget:
        return messages
    out = list(messages)
    changed = False
    for stage in ("cut", "drop"):
        for i, m in enumerate(out):
            if total <= budget:
                return out if changed else messages
            if m.get("role") != "tool":
                continue
            text = message_text(m)
            if stage == "cut":
                if len(text) <= 600:
                    continue
                short = text[:400] + f"\n[... {len(text) - 500} characters dropped when compacting ...]\n" + text[-100:]
            else:
                short = f"{DROPPED_RESULT} ({len(text)} characters)]"
                if text.startswith(DROPPED_RESULT) or len(short) >= len(text):
                    continue
            out[i] = {**m, "content": short}
            changed = True
            new_size = message_tokens(out[i], count)
            total -= sizes[i] - new_size
            sizes[i] = new_size
    return out if changed else messages


def worth_summarising(older: list[Message], count: Counter) -> int:
    """Tokens a summary of ``older`` may use, or 0 when the part is too short for a summary to save anything."""
    tokens = sum(message_tokens(m, count) for m in older)
    cap = tokens // 2
    return cap if cap >= MIN_SUMMARY_TOKENS else 0


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit * 3 // 4] + f"\n[... {len(text) - limit} characters cut ...]\n" + text[-limit // 4:]


def transcript_blocks(messages: list[Message]) -> list[str]:
    blocks: list[str] = []
    for m in messages:
        role = m.get("role")
        text = message_text(m)
        if is_summary(m):
            blocks.append("EARLIER SUMMARY:\n" + text[len(SUMMARY_PREFIX):])
        elif role == "user":
            blocks.append("USER:\n" + _clip(text, PER_MESSAGE_CHARS))
        elif role == "assistant":
            parts = []
            if text:
                parts.append(_clip(text, PER_MESSAGE_CHARS))
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                parts.append(f"(called {fn.get('name')} {_clip(str(fn.get('arguments', '')), 500)})")
            blocks.append("ASSISTANT:\n" + "\n".join(parts))
        elif role == "tool":
            blocks.append("TOOL RESULT:\n" + _clip(text, PER_TOOL_RESULT_CHARS))
        elif role == "system":
            blocks.append("SYSTEM:\n" + _clip(text, PER_MESSAGE_CHARS))
    return blocks


def summary_request(older: list[Message], budget: int, count: Counter) -> list[Message]:
    """The messages to send for the summary, trimmed (oldest first, earlier summary kept) to ``budget`` tokens."""
    blocks = transcript_blocks(older)
    sizes = [count(b) + 2 for b in blocks]
    fixed = count(SUMMARY_SYSTEM) + 40
    keep_first = bool(blocks) and blocks[0].startswith("EARLIER SUMMARY:")
    total = fixed + sum(sizes)
    dropped = 0
    lo = 1 if keep_first else 0
    while total > budget and len(blocks) - lo > 1:
        total -= sizes.pop(lo)
        blocks.pop(lo)
        dropped += 1
    if dropped:
        blocks.insert(lo, OMITTED)
    body = "\n\n".join(blocks)
    if total > budget:
        # One block alone is still too big: cut characters, roughly 3 per token.
        body = _clip(body, max(200, (budget - fixed) * 3))
    user = ("Summarise this conversation transcript:\n\n<transcript>\n" + body + "\n</transcript>")
    return [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": user}]


def summary_message(summary: str) -> Message:
    return {"role": "user", "content": SUMMARY_PREFIX + summary.strip()}


SUMMARY_ACK = "Understood. I will continue from that summary."


def alternating(messages: list[Message]) -> list[Message]:
    """The history as sent: a summary directly followed by a user message gets a short assistant
    reply between them, because chat templates that require alternating roles (Gemma's, Mistral's)
    reject two user messages in a row. The session keeps the summary as it was recorded."""
    out: list[Message] = []
    for i, msg in enumerate(messages):
        out.append(msg)
        if is_summary(msg) and i + 1 < len(messages) and messages[i + 1].get("role") == "user":
            out.append({"role": "assistant", "content": SUMMARY_ACK})
    return out


def budget_for_summary(window: int) -> tuple[int, int]:
    """(input token budget, output token cap) for a summary request on a model with this window."""
    out_cap = max(128, min(2048, window // 8))
    return max(256, int(window * 0.75) - out_cap), out_cap
