"""One masking function: any run of 8+ characters of a known key is hidden, wherever it sits."""

from __future__ import annotations

from lime.auth.masking import mask_key, redact
from lime.providers.openai_compat.errors import scrub

KEY = "sk-proj-Zq81vLmP0aXw3RtY6uJk2HnB"


def test_every_run_of_eight_characters_is_hidden() -> None:
    for start in range(len(KEY) - 7):
        for end in range(start + 8, len(KEY) + 1):
            text = f"echo <{KEY[start:end]}> done"
            out = redact(text, [KEY])
            assert KEY[start:end] not in out and out.startswith("echo <") and out.endswith("> done")
            for i in range(len(out) - 7):
                assert out[i:i + 8] not in KEY


def test_shorter_runs_and_other_text_are_kept() -> None:
    text = f"{KEY[:7]} and {KEY[10:17]} are only seven characters"
    assert redact(text, [KEY]) == text
    assert redact("", [KEY]) == ""
    assert redact("abc", []) == "abc"


def test_a_whole_key_shows_its_masked_form() -> None:
    assert redact(f"key={KEY}.", [KEY]) == f"key={mask_key(KEY)}."
    assert redact(KEY + KEY, [KEY]) == "****"  # adjacent runs hide as one


def test_several_keys_and_overlaps() -> None:
    other = "gsk_AAAABBBBCCCCDDDDEEEE"
    text = f"{KEY[4:20]}{other[2:14]} {other}"
    out = redact(text, [KEY, other])
    assert out == f"**** {mask_key(other)}"


def test_errors_use_the_same_function() -> None:
    assert KEY[3:15] not in scrub(f"bad key {KEY[3:15]}", (KEY,))


def test_a_key_split_across_streamed_pieces_is_masked() -> None:
    from lime.auth.masking import StreamRedactor

    text = f"here it is: {KEY} and a half {KEY[6:20]}, done. plain words stay plain."
    for size in (1, 2, 3, 5, 8, 13, len(text)):
        r = StreamRedactor([KEY])
        out = "".join(r.feed(text[i:i + size]) for i in range(0, len(text), size)) + r.finish()
        assert all(KEY[i:i + 8] not in out for i in range(len(KEY) - 7)), size
        assert out.startswith("here it is: ") and out.endswith(", done. plain words stay plain.")
    r = StreamRedactor([])
    assert r.feed("abc") == "abc" and r.finish() == ""
