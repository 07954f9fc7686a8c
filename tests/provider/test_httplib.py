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
