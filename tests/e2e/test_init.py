"""`lime init` / `/init`, `/memory`, `/config` and `lime version`, through the real command."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pexpect

from .conftest import Lime


def repo(lime: Lime) -> Path:
    (lime.cwd / ".git").mkdir()
    (lime.cwd / "pyproject.toml").write_text('[project]\nname = "demo"\n[tool.ruff]\nline-length = 100\n'
                                             '[tool.mypy]\nstrict = true\n[tool.pytest.ini_options]\n')
    (lime.cwd / "package.json").write_text(json.dumps({"scripts": {"test": "vitest", "lint": "eslint .",
                                                                   "build": "tsc", "evil; rm -rf /": "x"},
                                                       "devDependencies": {"typescript": "5"}}))
    (lime.cwd / "pnpm-lock.yaml").write_text("")
    (lime.cwd / "Makefile").write_text("check: lint\n\tpytest\nlint:\n\truff check .\nVAR := 1\n")
    (lime.cwd / ".gitignore").write_text("__pycache__/")  # no final newline
    return lime.cwd


def test_init_writes_the_skeleton_from_what_the_repository_shows_and_never_overwrites(lime: Lime) -> None:
    root = repo(lime)
    sub = root / "pkg"
    sub.mkdir()
    lime.cwd = sub  # files go to the project root
    proc = lime.run("init")
    assert proc.returncode == 0, proc.stderr
    assert "wrote AGENTS.md (Python, TypeScript;" in proc.stdout and "wrote .lime/settings.json" in proc.stdout
    agents = (root / "AGENTS.md").read_text()
    for expected in ("`python -m pytest`", "`ruff check .`", "`mypy`", "`pnpm test`", "`pnpm run lint`",
                     "`pnpm run build`", "`make check`", "`make lint`", "Found in pyproject.toml, package.json, Makefile"):
        assert expected in agents
    assert "evil" not in agents and "make VAR" not in agents
    assert json.loads((root / ".lime" / "settings.json").read_text())["permissions"]["deny"] == []
    assert (root / ".gitignore").read_text() == ("__pycache__/\n# lime: this machine's settings and sessions\n"
                                                 ".lime/settings.local.json\n.lime/sessions/\n")
    # Again: nothing is overwritten or added twice.
    (root / "AGENTS.md").write_text("mine\n")
    again = lime.run("init")
    assert again.returncode == 0
    assert "kept AGENTS.md" in again.stdout and "kept .lime/settings.json" in again.stdout
    assert "already ignores" in again.stdout
    assert (root / "AGENTS.md").read_text() == "mine\n" and (root / ".gitignore").read_text().count(".lime/sessions/") == 1


def test_init_follows_no_link_planted_in_the_repository(lime: Lime, tmp_path: Path) -> None:
    (lime.cwd / ".git").mkdir()
    target = tmp_path / "victim.txt"
    target.write_text("keep\n")
    (lime.cwd / "AGENTS.md").symlink_to(target)
    (lime.cwd / ".gitignore").symlink_to(target)
    (lime.cwd / ".lime").symlink_to(tmp_path)
    dangling = tmp_path / "nowhere"
    proc = lime.run("init")
    assert proc.returncode == 0, proc.stderr
    assert "kept AGENTS.md" in proc.stdout and ".lime is a symbolic link" in proc.stdout
    assert ".gitignore is a symbolic link" in proc.stdout
    assert target.read_text() == "keep\n" and not (tmp_path / "settings.json").exists() and not dangling.exists()
    # A dangling link is not written through either.
    (lime.cwd / "AGENTS.md").unlink()
    (lime.cwd / "AGENTS.md").symlink_to(dangling)
    assert "kept AGENTS.md" in lime.run("init").stdout and not dangling.exists()


def test_init_memory_and_config_in_the_repl(lime: Lime) -> None:
    root = repo(lime)
    lime.home.mkdir(exist_ok=True)
    (lime.home / "AGENTS.md").write_text("Prefer small diffs.\n")
    (lime.home / "settings.json").write_text(json.dumps({"verbosity": "low", "env": {"MY_TOKEN": "tok-123456"}}))
    (root / ".lime").mkdir()
    (root / ".lime" / "config.toml").write_text('verbosity = "high"\n[permissions]\nallow = ["read_file"]\n')
    env = {**lime.env, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm-256color"}
    child = pexpect.spawn(sys.executable, ["-m", "lime", "--trust"], env=env, cwd=str(root), encoding="utf-8",
                          timeout=30, dimensions=(40, 200))
    seen = io.StringIO()
    child.logfile_read = seen
    child.expect("›")
    child.send("/init\r")
    child.expect("wrote AGENTS.md")
    child.expect("›")
    child.send("/memory\r")
    child.expect(r"user memory\s+\S+AGENTS.md\s+20 bytes")
    child.expect(r"project\s+AGENTS.md\s+[\d,]+ bytes")
    child.expect(r"system prompt\s+[\d,]+ bytes")
    child.expect("›")
    child.send("/config\r")
    child.expect(r'env.MY_TOKEN = "\*+"')
    child.expect(r'permissions.allow \+= "read_file"  \(\S+config.toml\)')
    child.expect(r'verbosity = "high"  \(\S+config.toml; overrides \S+settings.json\)')
    child.expect("permission mode: default")
    child.expect("›")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (root / "AGENTS.md").is_file() and "tok-123456" not in seen.getvalue()


def test_version_names_the_commit_without_running_git(lime: Lime) -> None:
    checkout = Path(__file__).resolve().parents[2]
    short = lime.run("-V")
    assert short.returncode == 0 and short.stdout.startswith("lime ")
    # No git on PATH: the commit still comes from the checkout's .git (or the build's record).
    data = json.loads(lime.run("version", "--json", PATH=os.defpath.replace("/usr/bin", "/nonexistent")).stdout)
    assert data["version"] == short.stdout.split()[1]
    if (checkout / ".git").exists():
        import subprocess

        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
        if head.returncode == 0:
            assert data["commit"] == head.stdout.strip() and data["commit_from"] == "source checkout"
    text = lime.run("version").stdout
    assert text.startswith(f"lime {data['version']}\n") and ("commit " in text)


def test_an_installed_wheel_names_the_commit_recorded_at_build_time(tmp_path: Path) -> None:
    from lime.cli.version_cmd import info

    package = tmp_path / "site-packages" / "lime"
    package.mkdir(parents=True)
    assert info(package)["commit"] is None  # no record, no checkout: unknown, and said so
    (package / "_build.json").write_text(json.dumps({"commit": "a" * 40, "built": "2026-01-02"}))
    data = info(package)
    assert data["commit"] == "a" * 40 and data["commit_from"] == "build" and data["built"] == "2026-01-02"
    (package / "_build.json").write_text("{not json")
    assert info(package)["commit"] is None
