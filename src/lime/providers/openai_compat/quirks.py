"""Every known way an OpenAI-compatible server departs from OpenAI, as data.

Code elsewhere reads these tables instead of carrying server names in branches: errors.py (overflow
wordings, retry headers), request.py (how a server says it refused a field), stream.py (where a
server puts errors, usage and reasoning in a chunk). Each entry names the servers it covers and
carries a sample as the server sends it, so the tests can check every entry against its sample.
Standard library only; nothing here does I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# ----------------------------------------------------------------------------------------------
# Context overflow


@dataclass(frozen=True)
class Overflow:
    """One wording of "the prompt does not fit the window".

    ``phrase`` recognises the wording; ``counts``, when the message carries the numbers, has the
    named groups ``prompt`` (tokens the request needs) and ``window`` (tokens the model takes).
    """

    servers: tuple[str, ...]
    phrase: str
    sample: str
    counts: str | None = None


# Order matters for ``counts``: the first entry whose ``counts`` matches gives the numbers, so a
# server-specific wording stands before the general one it also matches.
OVERFLOWS: tuple[Overflow, ...] = (
    Overflow(("llamacpp",), r"exceeds? the available context size",
             "request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it",
             r"request \((?P<prompt>\d+) tokens\) exceeds the available context size \((?P<window>\d+) tokens\)"),
    Overflow(("vllm", "deepseek"), r"maximum context length",
             "This model's maximum context length is 8192 tokens. However, you requested 9016 tokens (9000 in the "
             "messages, 16 in the completion). Please reduce the length of the messages or completion.",
             r"maximum context length is (?P<window>\d+) tokens\. However, you requested \d+ tokens "
             r"\((?P<prompt>\d+) in the messages"),
    Overflow(("openai", "openrouter", "together"), r"maximum context length",
             "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. "
             "Please reduce the length of the messages.",
             r"maximum context length is (?P<window>\d+) tokens.*?(?:resulted in|requested(?: about)?) "
             r"(?P<prompt>\d+) tokens"),
    Overflow(("openai", "groq", "cerebras"), r"reduce the length of the messages",
             "Please reduce the length of the messages or completion."),
    Overflow(("cerebras",), r"reduce the length of the messages",
             "Please reduce the length of the messages or completion. Current length is 9000 while limit is 8192",
             r"current length is (?P<prompt>\d+) while limit is (?P<window>\d+)"),
    Overflow(("xai",), r"maximum prompt length is",
             "This model's maximum prompt length is 8192 but the request contains 9000 tokens.",
             r"maximum prompt length is (?P<window>\d+) but the request contains (?P<prompt>\d+)"),
    Overflow(("mistral",), r"too large for model with",
             "Prompt contains 9000 tokens and 0 draft tokens, too large for model with 8192 maximum context length",
             r"prompt contains (?P<prompt>\d+) tokens.*?model with (?P<window>\d+) maximum"),
    Overflow(("lmstudio",), r"when context the overflows|context overflows|context length of only",
             "Trying to keep the first 9000 tokens when context the overflows. However, the model is loaded with "
             "context length of only 8192 tokens, which is not enough. Try to load the model with a larger context "
             "length, or provide a shorter input",
             r"first (?P<prompt>\d+) tokens when context the overflows.*?context length of only (?P<window>\d+)"),
    Overflow(("vllm",), r"longer than the maximum model length",
             "The decoder prompt (length 9000) is longer than the maximum model length of 8192. Make sure that "
             "`max_model_len` is no smaller than the number of text tokens.",
             r"prompt \(length (?P<prompt>\d+)\) is longer than the maximum model length of (?P<window>\d+)"),
    Overflow(("anthropic",), r"input length and `max_tokens` exceed context limit",
             "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, decrease input length "
             "or `max_tokens` and try again"),  # the prompt fits; prompt + answer does not
    Overflow(("anthropic",), r"prompt is too long",
             "prompt is too long: 9000 tokens > 8192 maximum",
             r"prompt is too long: (?P<prompt>\d+) tokens > (?P<window>\d+) maximum"),
    Overflow(("bedrock",), r"input is too long", "Input is too long for requested model."),
    Overflow(("cohere",), r"too many tokens: size limit exceeded",
             "too many tokens: size limit exceeded by 808 tokens. Try using shorter or fewer inputs, or setting "
             "prompt_truncation='AUTO'."),
    Overflow(("tgi", "together"), r"tokens \+ `?max_new_tokens`? must be <=",
             "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192. Given: 9000 `inputs` "
             "tokens and 16 `max_new_tokens`",
             r"must be <= (?P<window>\d+)\. Given: (?P<prompt>\d+) `inputs` tokens"),
    Overflow(("gemini",), r"input token count .* exceeds the maximum|exceeds the maximum number of tokens allowed",
             "The input token count (9000) exceeds the maximum number of tokens allowed (8192).",
             r"input token count \((?P<prompt>\d+)\) exceeds the maximum number of tokens allowed \((?P<window>\d+)\)"),
    Overflow(("openai",), r"string too long\. expected a string with maximum length",
             "Invalid 'messages[0].content': string too long. Expected a string with maximum length 10485760, but "
             "got a string with length 10485761 instead."),
    Overflow(("litellm", "proxies"), r"exceeds? (?:the )?(?:model'?s? )?context (?:window|length|size)"
             r"|context (?:window|length) (?:exceeded|is exceeded|overflow)|context_length_exceeded",
             "litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: "
             "context_length_exceeded"),
    # pi-ai's utils/overflow.ts wordings lime's entries above did not already cover
    Overflow(("openai",), r"exceeds the context window",
             "Your input exceeds the context window of this model. Please adjust your input and try again."),
    Overflow(("github-copilot",), r"exceeds the limit of \d+",
             "prompt token count of 9000 exceeds the limit of 8192",
             r"prompt token count of (?P<prompt>\d+) exceeds the limit of (?P<window>\d+)"),
    Overflow(("lmstudio",), r"greater than the context length",
             "tokens to keep from the initial prompt is greater than the context length"),
    Overflow(("minimax",), r"context window exceeds limit", "invalid params, context window exceeds limit (2013)"),
    Overflow(("kimi",), r"exceeded model token limit",
             "Your request exceeded model token limit: 8192 (requested: 9000)",
             r"exceeded model token limit: (?P<window>\d+) \(requested: (?P<prompt>\d+)\)"),
    Overflow(("proxies",), r"too many tokens", "Too many tokens in the request for this model"),
    Overflow(("proxies",), r"token limit exceeded", "token limit exceeded for this model"),
    # LiteLLM's exception mapping (ExceptionCheckers.is_error_str_context_window_exceeded)
    Overflow(("litellm",), r"exceed context limit", "Input would exceed context limit of the model"),
    Overflow(("litellm",), r"model's maximum context limit",
             "This request exceeds the model's maximum context limit, please shorten it"),
    Overflow(("litellm",), r"is longer than the model's context length",
             "The input (9000 tokens) is longer than the model's context length (8192 tokens).",
             r"input \((?P<prompt>\d+) tokens\) is longer than the model's context length \((?P<window>\d+) tokens\)"),
    Overflow(("openai", "litellm"), r"input tokens exceed the configured limit",
             "Input tokens exceed the configured limit of 8192 tokens. Your messages resulted in 9000 tokens. "
             "Please reduce the length of the messages.",
             r"configured limit of (?P<window>\d+) tokens\. Your messages resulted in (?P<prompt>\d+) tokens"),
    Overflow(("cerebras", "litellm"), r"current length is \d+ while limit is \d+",
             "Current length is 9000 while limit is 8192",
             r"current length is (?P<prompt>\d+) while limit is (?P<window>\d+)"),
    Overflow(("litellm",), r"maximum input length is \d+ tokens",
             "Input validation error: the maximum input length is 8192 tokens"),
    # LiteLLM wrapping the upstream's words: by its exception's name, and with the upstream JSON as text
    Overflow(("litellm",), r"ContextWindowExceededError",
             "litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: "
             "OpenAIException - request (3031 tokens) exceeds the available context size (1024 tokens), try "
             "increasing it. Received Model Group=local-qwen Available Model Group Fallbacks=None",
             r"request \((?P<prompt>\d+) tokens\) exceeds the available context size \((?P<window>\d+) tokens\)"),
    Overflow(("litellm",), r"exceeds? the available context size",
             'litellm.BadRequestError: OpenAIException - {"error":{"code":400,"message":"request (3031 tokens) '
             'exceeds the available context size (1024 tokens), try increasing it","type":"exceed_context_size_error",'
             '"n_prompt_tokens":3031,"n_ctx":1024}}',
             r"request \((?P<prompt>\d+) tokens\) exceeds the available context size \((?P<window>\d+) tokens\)"),
)

# Error ``code`` / ``type`` values that mean overflow whatever the message says.
OVERFLOW_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
OVERFLOW_TYPES = frozenset({"exceed_context_size_error"})  # llama.cpp
# A 413/429 about tokens per minute is a rate limit, not an overflow (Groq words both alike).
RATE_LIMIT_WORDS = r"per minute|per day|rate.?limit|\bTPM\b|\bRPM\b|quota"

# The tables compiled on first use: only a failed request reads them, and a run that succeeds
# should not pay for compiling them.


@functools.cache
def rate_limit_words() -> re.Pattern[str]:
    return re.compile(RATE_LIMIT_WORDS, re.I)


@functools.cache
def overflow_phrase() -> re.Pattern[str]:
    """Any overflow wording at all."""
    return re.compile("|".join(dict.fromkeys(o.phrase for o in OVERFLOWS)), re.I)


@functools.cache
def overflow_counts() -> tuple[re.Pattern[str], ...]:
    """The wordings that carry the numbers, in table order (the first match gives them)."""
    return tuple(re.compile(o.counts, re.I | re.S) for o in OVERFLOWS if o.counts)

# ----------------------------------------------------------------------------------------------
# Refused fields (a 400/422 that names an optional field the server does not take)


@dataclass(frozen=True)
class Refusal:
    """How some servers word "this field is not accepted", with a sample the tests check the pattern on."""

    servers: tuple[str, ...]
    pattern: str
    sample: str


REFUSALS: tuple[Refusal, ...] = (
    Refusal(("azure",), r"unrecognized request argument",
            "Unrecognized request argument supplied: stream_options"),
    Refusal(("vllm", "mistral"), r"extra inputs are not permitted|extra_forbidden",
            "[{'type': 'extra_forbidden', 'loc': ('body', 'verbosity'), 'msg': 'Extra inputs are not permitted', "
            "'input': 'low'}]"),
    Refusal(("openai", "perplexity"), r"unsupported (?:parameter|argument|field|value)",
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' "
            "instead."),
    Refusal(("openai",), r"only the default",
            "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value "
            "is supported."),
    Refusal(("cohere", "groq", "xai"), r"not supported|does not support",
            "unprocessable entity: stream_options is not supported"),
    Refusal(("lmstudio",), r"must be 'json_schema'", "'response_format.type' must be 'json_schema' or 'text'"),
    Refusal(("lmstudio",), r"invalid tool_choice",
            "Invalid tool_choice type: 'object'. Supported string values: none, auto, required"),
    Refusal(("gemini",), r"invalid (?:\w+ )?value", "Invalid reasoning_effort value: none"),
    Refusal(("proxies",), r"unknown field|unknown (?:parameter|argument|name)|unrecognized (?:field|key|parameter)",
            "Unknown parameter: 'verbosity'."),
    Refusal(("proxies",), r"is not allowed|not permitted|cannot be used",
            "'parallel_tool_calls' is not allowed when tools are not specified"),
    Refusal(("proxies",), r"unexpected (?:keyword|field|argument|property)|additional propert",
            "Unexpected keyword argument 'store'"),
    Refusal(("proxies",), r"invalid (?:field|parameter|argument)|not (?:a )?valid (?:field|parameter)",
            "Invalid parameter: 'service_tier'"),
    Refusal(("proxies",), r"no longer supported", "The 'user' parameter is no longer supported."),
)



@functools.cache
def refusal() -> re.Pattern[str]:
    """Any refusal wording (compiled on first use, like the overflow tables)."""
    return re.compile("|".join(r.pattern for r in REFUSALS), re.I)

# ----------------------------------------------------------------------------------------------
# Response shapes: where a chunk puts what OpenAI puts elsewhere


@dataclass(frozen=True)
class Shape:
    """How some servers' chunks depart from OpenAI's (``what``), with a sample chunk for the tests."""

    servers: tuple[str, ...]
    what: str
    sample: bytes  # one SSE ``data:`` payload as the server sends it


# A chunk carrying one of these keys reports an error mid-stream (OpenRouter: with or without choices).
ERROR_KEYS: tuple[str, ...] = ("error",)
# A chunk whose ``object`` is one of these is an error object (vLLM).
ERROR_OBJECTS: frozenset[str] = frozenset({"error"})
# Objects beside ``usage`` that carry it when ``usage`` is absent (Groq's last chunk).
USAGE_CARRIERS: tuple[str, ...] = ("x_groq",)
# Where reasoning text arrives in a delta or message, first present wins.
REASONING_FIELDS: tuple[str, ...] = ("reasoning_content", "reasoning")
# Where a choice holds its content: ``delta`` in chunks, ``message`` in servers that send whole messages.
CHOICE_FIELDS: tuple[str, ...] = ("delta", "message")

SHAPES: tuple[Shape, ...] = (
    Shape(("openrouter",), "error", b'{"id":"gen-1","object":"chat.completion.chunk","choices":[{"index":0,'
          b'"delta":{"content":""},"finish_reason":"error"}],"error":{"code":502,"message":"Provider returned '
          b'error"}}'),
    Shape(("vllm",), "error", b'{"object":"error","message":"The engine is dead","type":"InternalServerError",'
          b'"param":null,"code":500}'),
    Shape(("groq",), "usage", b'{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
          b'"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":12,'
          b'"completion_tokens":7,"total_tokens":19}}}'),
    Shape(("deepseek", "vllm", "llamacpp"), "reasoning", b'{"choices":[{"index":0,"delta":{"reasoning_content":'
          b'"Let me think."},"finish_reason":null}]}'),
    Shape(("openrouter", "groq", "ollama"), "reasoning", b'{"choices":[{"index":0,"delta":{"reasoning":'
          b'"Let me think."},"finish_reason":null}]}'),
    Shape(("proxies",), "message", b'{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},'
          b'"finish_reason":"stop"}]}'),
)

# ----------------------------------------------------------------------------------------------
# Retry hints: headers that say how long to wait, read in this order, with the seconds one unit is
# worth. ``retry-after`` may also be an HTTP date; OpenAI and Azure add ``retry-after-ms``.
RETRY_HEADERS: tuple[tuple[str, float], ...] = (("retry-after-ms", 0.001), ("retry-after", 1.0))
# LiteLLM forwards the upstream service's headers under this prefix.
FORWARDED_HEADER_PREFIX = "llm_provider-"
# On a 429 without those, OpenAI says when each limit resets (a Go duration such as ``6m0s``) and
# which one is spent (remaining ``0``): header prefixes, and the limits they are suffixed with.
RATE_LIMIT_RESET = "x-ratelimit-reset-"
RATE_LIMIT_REMAINING = "x-ratelimit-remaining-"
RATE_LIMITS: tuple[str, ...] = ("requests", "tokens")

# A request without a key is answered by the LiteLLM proxy with its framework's bare HTTP 500
# ("Internal Server Error" in plain text), which names neither the key nor anything else.
BARE_500 = "Internal Server Error"
KEYLESS_500_MEANS = "a server that wants a key may answer a request without one so (the LiteLLM proxy does)"


def bare_server_error(status: int, message: str) -> bool:
    """An HTTP 500 that says nothing but its status."""
    return status == 500 and message.strip() in ("", BARE_500)


# LiteLLM's answer to a key that is not its master key when it runs without a key database.
NO_KEY_DB = "No connected db"
NO_KEY_DB_MEANS = ("the LiteLLM proxy keeps no key database, so it accepts only its master key "
                   "and the key lime sent is not it")
