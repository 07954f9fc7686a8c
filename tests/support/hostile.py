"""Malformed replies, as a hostile or broken server sends them: each case is the raw JSON text and
the words lime's one-line error must contain. Shared by the provider and the end-to-end tests."""

from __future__ import annotations

from support.fakeserver import SSE, Raw

DEEP = "[" * 100_000 + "]" * 100_000

MALFORMED_CHUNKS = {
    "choices-string": ('{"choices": "abc"}', "`choices` is a string, expected a list"),
    "choices-object": ('{"choices": {"0": {}}}', "`choices` is an object, expected a list"),
    "choices-number": ('{"choices": [1]}', "`choices[0]` is the number 1, expected an object"),
    "delta-string": ('{"choices": [{"delta": "hello"}]}', "`choices[0].delta` is a string, expected an object"),
    "tool-calls-string": ('{"choices": [{"delta": {"tool_calls": "x"}}]}',
                          "`choices[0].delta.tool_calls` is a string, expected a list of tool calls"),
    "index-list": ('{"choices": [{"delta": {"tool_calls": [{"index": [0], "id": "c", "function": {"name": "f"}}]}}]}',
                   "`choices[0].delta.tool_calls[0].index` is a list, expected a small whole number"),
    "index-negative": ('{"choices": [{"delta": {"tool_calls": [{"index": -1, "function": {"name": "f"}}]}}]}',
                       "`choices[0].delta.tool_calls[0].index` is the number -1"),
    "name-number": ('{"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c", "function": {"name": 7}}]}}]}',
                    "`choices[0].delta.tool_calls[0].function.name` is the number 7, expected text"),
    "arguments-number": ('{"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"name": "f", '
                         '"arguments": 5}}]}}]}', "`choices[0].delta.tool_calls[0].function.arguments` is the number 5"),
    "usage-inf": ('{"choices": [], "usage": {"prompt_tokens": 1e999, "completion_tokens": 1}}',
                  "`usage.prompt_tokens` is the number inf, expected a token count"),
    "usage-negative": ('{"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": -3}}',
                       "`usage.completion_tokens` is the number -3"),
    "usage-huge": ('{"choices": [], "usage": {"prompt_tokens": 1000000000000000000000000000000, "completion_tokens": 1}}',
                   "`usage.prompt_tokens` is a huge number"),
    "deep": (DEEP, "a stream chunk is JSON nested more than 128 levels deep"),
}

MALFORMED_BODIES = {
    "not-object": ('[1, 2]', "the response is a list, expected an object"),
    "no-choices": ('{"id": "x"}', "the response has no choices"),
    "choices-string": ('{"choices": "abc"}', "`choices` is a string, expected a list"),
    "choices-number": ('{"choices": [1]}', "`choices[0]` is the number 1, expected an object"),
    "message-string": ('{"choices": [{"message": "hello"}]}', "`choices[0].message` is a string, expected an object"),
    "name-number": ('{"choices": [{"message": {"tool_calls": [{"id": "c", "function": {"name": 7}}]}}]}',
                    "`choices[0].message.tool_calls[0].function.name` is the number 7"),
    "tool-calls-object": ('{"choices": [{"message": {"tool_calls": {"a": 1}}}]}',
                          "`choices[0].message.tool_calls` is an object, expected a list of tool calls"),
    "usage-inf": ('{"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 1e999}}',
                  "`usage.prompt_tokens` is the number inf"),
    "deep": (DEEP, "the response is JSON nested more than 128 levels deep"),
}


def raw_json(text: str, status: int = 200) -> SSE:
    """A body sent as is with a JSON content type, whatever the request asked for."""
    return SSE([Raw(text)], done=False, status=status, headers={"Content-Type": "application/json"}, framing="close")
