"""The prompt line: ``@path`` mentions (files, line ranges, directories, images) in one-shots and
the REPL, ``--image``, and ``!command`` shell lines."""

from __future__ import annotations

import base64

from support.fakeserver import reply

from .conftest import Lime, chat
from .test_repl import finish, say, spawn

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _user(lime: Lime) -> object:
    return chat(lime.server.last.json["messages"])[-1]["content"]


def test_file_mentions_line_ranges_and_directories(lime: Lime) -> None:
    (lime.cwd / "src").mkdir()
    (lime.cwd / "src" / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 51)))
    (lime.cwd / "notes.md").write_text("remember the milk\n")
    lime.server.enqueue(reply("ok"), reply("ok"))
    out = lime.run("-p", "look at @notes.md and @src/app.py:10-12 in @src please; mail me@example.com")
    assert out.returncode == 0, out.stderr
    sent = _user(lime)
    assert isinstance(sent, str)
    assert sent.startswith("look at @notes.md")
    assert '<file path="notes.md">\nremember the milk\n</file>' in sent
    assert '<file path="src/app.py" lines="10-12">\nline 10\nline 11\nline 12\n</file>' in sent
    assert "line 13" not in sent and '<directory path="src">\napp.py\n</directory>' in sent
    # Single lines and open ranges.
    out = lime.run("-p", "@src/app.py:49-")
    assert out.returncode == 0, out.stderr
    assert _user(lime).endswith('lines="49-50">\nline 49\nline 50\n</file>')  # type: ignore[union-attr]


def test_mentions_obey_the_workspace_rules(lime: Lime) -> None:
    outside = lime.cwd.parent / "secret.txt"
    outside.write_text("TOP SECRET")
    (lime.home / "leak.txt").write_text("CONFIG HOME")
    requests = len(lime.server.chat_requests)
    for ref in ("../secret.txt", str(outside), str(lime.home / "leak.txt")):
        out = lime.run("-p", f"summarise @{ref}")
        assert out.returncode != 0 and "outside" in out.stderr or "config" in out.stderr, out.stderr
        assert "TOP SECRET" not in out.stdout + out.stderr and "CONFIG HOME" not in out.stdout + out.stderr
    (lime.cwd / "big.txt").write_text("word " * 60_000)  # more than a quarter of the 32k window
    out = lime.run("-p", "read @big.txt")
    assert out.returncode != 0 and "quarter" in out.stderr and "@file:10-40" in out.stderr
    (lime.cwd / "blob.bin").write_bytes(b"\0\1\2" * 100)
    out = lime.run("-p", "read @blob.bin")
    assert out.returncode != 0 and "binary" in out.stderr
    assert len(lime.server.chat_requests) == requests  # nothing was sent


def test_images_go_to_vision_models_only(lime: Lime) -> None:
    lime.add_model("eye-model", supports_vision=True)
    (lime.cwd / "shot.png").write_bytes(PNG)
    (lime.cwd / "fake.png").write_text("not an image")
    lime.server.enqueue(reply("A pixel."), reply("Also."))
    out = lime.run("-m", "eye-model", "-p", "what is in @shot.png?")
    assert out.returncode == 0, out.stderr
    parts = _user(lime)
    assert isinstance(parts, list)
    assert parts[0] == {"type": "text", "text": "what is in @shot.png?"}
    assert parts[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    out = lime.run("-m", "eye-model", "--image", "shot.png", "-p", "and this?")
    assert out.returncode == 0, out.stderr
    assert _user(lime)[1]["type"] == "image_url"  # type: ignore[index]
    requests = len(lime.server.chat_requests)
    refused = lime.run("--image", "shot.png", "-p", "describe")
    assert refused.returncode != 0 and "fake-model does not take images" in refused.stderr
    liar = lime.run("-m", "eye-model", "-p", "see @fake.png")
    assert liar.returncode != 0 and "is not a PNG, JPEG, GIF or WebP image" in liar.stderr
    assert len(lime.server.chat_requests) == requests


def test_shell_lines_and_mention_completion_in_the_repl(lime: Lime) -> None:
    (lime.cwd / "readme_here.txt").write_text("hello from the file\n")
    lime.server.enqueue(reply("I see the listing."))
    child = spawn(lime)
    say(child, "!echo shell-$((6*7)) && ls")
    child.expect("shell-42")
    child.expect("go with your next message")
    child.expect("›")
    assert not lime.server.chat_requests  # no model round-trip
    child.send("what about @readme_h\t")
    child.expect("ere.txt")
    child.send("\r")
    child.expect("attached readme_here.txt")
    child.expect("I see the listing.")
    finish(child)
    sent = _user(lime)
    assert isinstance(sent, str)
    assert sent.startswith("I ran this shell command:\n$ echo shell-$((6*7)) && ls\n```\nshell-42\n")
    assert "readme_here.txt\n" in sent and "[exit status 0]\n```\n\nwhat about @readme_here.txt" in sent
    assert sent.endswith('<file path="readme_here.txt">\nhello from the file\n</file>')


def test_shell_lines_run_in_the_same_sandbox_as_the_bash_tool(lime: Lime) -> None:
    import pytest

    from lime.runtime.shellrun import layers

    if not layers().namespaces:
        pytest.skip("no namespaces here: the config home cannot be hidden from commands")
    lime.server.enqueue(reply("ok"))
    child = spawn(lime)
    # Typed by the user, so no approval, but the config home (keys) stays hidden and the
    # protected project settings stay read-only, exactly as for the model's bash calls.
    assert (lime.home / "credentials.json").exists()
    say(child, f"!ls {lime.home}; mkdir -p .lime && echo x > .lime/settings.local.json; echo rc=$?")
    child.expect(r"rc=(\d+)")
    assert child.match.group(1) != "0"
    child.expect("›")
    say(child, "go")
    child.expect("ok")
    finish(child)
    assert not (lime.cwd / ".lime" / "settings.local.json").exists()
    sent = _user(lime)
    assert isinstance(sent, str) and "credentials.json" not in sent and "rc=0" not in sent


def test_large_images_are_scaled_down_before_sending(lime: Lime) -> None:
    import io

    from PIL import Image

    lime.add_model("eye-model", supports_vision=True)
    Image.new("RGB", (4000, 1000), (200, 30, 30)).save(lime.cwd / "wide.png")
    lime.server.enqueue(reply("Red."))
    out = lime.run("-m", "eye-model", "-p", "colour of @wide.png")
    assert out.returncode == 0, out.stderr
    url = _user(lime)[1]["image_url"]["url"]  # type: ignore[index]
    assert url.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as sent:
        assert sent.size == (2048, 512)
