"""lime's process never loads httpx's command-line client (click, pygments, rich), even where click is installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = "[m for m in sys.modules if m.split('.')[0] in ('click', 'pygments', 'rich') or m == 'httpx._main']"
PROBE = f"""
import sys
from lime.providers.openai_compat.httplib import httpx
httpx.Client().close()
print(sorted({CLI}))
import httpx._main  # the mark is gone afterwards: whoever wants the command still gets it
print('click' in sys.modules)
"""


def python(code: str, path: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(path)}, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_httpx_loads_without_its_cli_when_click_is_installed(tmp_path: Path) -> None:
    # A stand-in click, found first on the path: httpx._main imports it before anything else.
    (tmp_path / "click").mkdir()
    (tmp_path / "click" / "__init__.py").write_text("def __getattr__(name):\n    return lambda *a, **k: (lambda f: f)\n")
    assert python("import sys, httpx; print('click' in sys.modules)", tmp_path) == ["True"]  # plain import drags it in
    assert python(PROBE, tmp_path) == ["[]", "True"]


IDNA = """
import codecs, sys
from lime.providers.openai_compat import httplib  # noqa: F401
import socket
socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
print("encodings.idna" in sys.modules)
cases = ["localhost", "127.0.0.1", "api.example.com", "a.b.", "", "x" * 63 + ".com", "x" * 64 + ".com", "a..b",
         "b\u00fccher.example", "\u4f8b\u3048.\u30c6\u30b9\u30c8", "A-B.C"]
def run(encode):
    out = []
    for c in cases:
        try:
            out.append(repr(encode(c)))
        except UnicodeError as exc:
            out.append("error " + type(exc).__name__)
    return out
fast = run(lambda c: c.encode("idna"))
from encodings import idna
real = run(lambda c: idna.Codec().encode(c)[0])
print(fast == real, fast[:1], codecs.lookup("idna").decode(b"xn--bcher-kva.example")[0])
enc = codecs.getincrementalencoder("idna")()
print(enc.encode("b\u00fccher.", final=False) + enc.encode("example", final=True))
"""


def test_an_ascii_host_connects_without_the_idna_codec_and_every_host_encodes_as_before(tmp_path: Path) -> None:
    """Resolving a host encodes it with the "idna" codec, which costs ~6 ms to load: an ASCII name
    takes the codec's own fast path without loading it, and every name (ASCII or not, valid or
    not) encodes exactly as the standard codec does."""
    lines = python(IDNA, tmp_path)
    assert lines[0] == "False"  # resolved localhost, codec module never loaded
    assert lines[1] == "True [\"b'localhost'\"] b\u00fccher.example"
    assert lines[2] == "b'xn--bcher-kva.example'"
