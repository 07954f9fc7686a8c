"""A ``lime`` process killed with SIGKILL mid-answer leaves a session that resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from support.fakeserver import reply, text_stream

from .conftest import Lime, chat


def test_kill_9_mid_stream_then_resume(lime: Lime) -> None:
    lime.server.enqueue(text_stream("word " * 400, chunks=400, delay=0.02), reply("recovered"))
    proc = subprocess.Popen([sys.executable, "-m", "lime", "-p", "tell me a long story"], cwd=lime.cwd,
                            env=lime.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        seen = b""
        while len(seen) < 600:  # about 2.5 s of streaming: past the first save of the partial answer
            chunk = proc.stdout.read1(4096)
            assert chunk, "lime stopped before it was killed"
            seen += chunk
        assert seen.startswith(b"word")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    # Simulate the worst case too: the kill landed in the middle of writing a line.
    (path,) = lime.sessions()
    with path.open("ab") as fh:
        fh.write(b'{"type":"message","message":{"role":"assistant","content":"word wo')
    time.sleep(0.05)
    done = lime.run("-c", "-p", "are you there?")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "recovered\n"
    assert "skipped a truncated last line" in done.stderr
    assert "the last answer was cut off" in done.stderr
    sent = chat(lime.server.last.json["messages"])
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "tell me a long story" and sent[2]["content"] == "are you there?"
    partial = sent[1]["content"]
    assert partial.startswith("word word") and 0 < len(partial) <= len(seen) + 20
