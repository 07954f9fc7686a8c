"""`lime version [--json]` (and ``-V``): lime's version and where this copy was built from.

The commit is the one recorded when the wheel was built (``lime/_build.json``, written by
``hatch_build.py``) or, for a source checkout, the one its ``.git`` names. Both are read from
files: this command never runs git.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

from lime.version import __version__

PACKAGE = Path(__file__).resolve().parent.parent
BUILD_FILE = "_build.json"


def register(sub: Any) -> None:
    p = sub.add_parser("version", help="lime's version and build information")
    p.add_argument("--json", dest="as_json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run_version)


def info(package: Path = PACKAGE) -> dict[str, Any]:
    out: dict[str, Any] = {"version": __version__, "commit": None, "commit_from": None, "built": None}
    try:
        data = json.loads((package / BUILD_FILE).read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("commit"), str):
            out.update(commit=data["commit"], commit_from="build", built=data.get("built"))
    except (OSError, ValueError):
        pass
    checkout = package.parent.parent  # src/lime -> the repository
    if out["commit"] is None and (checkout / ".git").exists() and (checkout / "pyproject.toml").is_file():
        from lime.runtime.gitinfo import commit, state

        sha = commit(checkout)
        if sha:
            git = state(checkout)
            out.update(commit=sha, commit_from="source checkout", branch=git.branch if git else None,
                       dirty=git.dirty if git else None)
    out["python"] = f"{platform.python_implementation()} {platform.python_version()}"
    out["platform"] = f"{sys.platform} {platform.machine()}"
    return out


def run_version(args: argparse.Namespace) -> int:
    data = info()
    if args.as_json:
        print(json.dumps(data))
        return 0
    print(f"lime {data['version']}")
    if data["commit"]:
        where = data["commit_from"]
        if where == "build" and data.get("built"):
            where = f"built {data['built']}"
        elif where == "source checkout" and data.get("branch"):
            where += f", branch {data['branch']}" + (", uncommitted changes" if data.get("dirty") else "")
        print(f"commit {data['commit'][:12]} ({where})")
    else:
        print("commit unknown (built without git information)")
    print(f"{data['python']} on {data['platform']}")
    return 0
