"""The git branch and changes, read from .git without running git (checked against git itself)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lime.runtime import gitinfo

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git to build the repository")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


@pytest.mark.parametrize("index_version", ["2", "3", "4"])
def test_branch_and_changes_match_git(tmp_path: Path, index_version: str) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "work", str(repo))
    assert gitinfo.state(repo) == gitinfo.GitState("work", False)  # no index yet
    for name in ("a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(name)
    git(repo, "add", "-A")
    git(repo, "update-index", "--index-version", index_version)
    git(repo, "commit", "-q", "-m", "one")
    past = os.stat(repo / "dir/sub/d.txt").st_mtime - 10
    for name in ("a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt"):
        os.utime(repo / name, (past, past))
    git(repo, "update-index", "--refresh")
    assert gitinfo.state(repo) == gitinfo.GitState("work", False)
    (repo / "dir/sub/d.txt").write_text("changed, longer")
    assert gitinfo.state(repo) == gitinfo.GitState("work", True)
    git(repo, "checkout", "-q", "--", "dir/sub/d.txt")
    os.utime(repo / "dir/sub/d.txt", (past, past))
    git(repo, "update-index", "--refresh")
    assert gitinfo.state(repo) == gitinfo.GitState("work", False)
    (repo / "dir/b.txt").unlink()
    assert gitinfo.state(repo) == gitinfo.GitState("work", True)


def test_detached_head_worktree_file_and_garbage(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    (repo / "f").write_text("x")
    git(repo, "add", "f")
    git(repo, "commit", "-q", "-m", "one")
    git(repo, "checkout", "-q", "--detach")
    state = gitinfo.state(repo)
    assert state is not None and state.branch.startswith("detached at ") and len(state.branch) == 19
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    assert gitinfo.state(tmp_path / "wt") == gitinfo.GitState("side", False)
    (repo / ".git" / "index").write_bytes(b"DIRC\0\0\0\2\0\0\0\5garbage")
    assert gitinfo.state(repo) == gitinfo.GitState(state.branch, None)
    assert gitinfo.state(tmp_path) is None
