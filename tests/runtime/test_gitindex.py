"""``.git/index`` read without git, checked against ``git ls-files`` for every index format git writes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lime.runtime import gitindex

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git to write the indexes")

FILES = [".lime/settings.local.json", ".lime/settings.json", "a.txt", "dir/sub/deep name.py", "dir/z",
         "zz/\u00e9t\u00e9.md"] + [f"many/file{i:03}.txt" for i in range(40)]
ASKED = [".lime/settings.local.json", ".lime/settings.json", "nope.json", "dir/sub", "dir/sub/deep name.py"]


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, env=env,
                          check=True, capture_output=True, text=True).stdout


def make(tmp_path: Path, *init: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", *init)
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    git(root, "add", "-A")
    return root


def agrees(root: Path) -> set[str]:
    listed = set(git(root, "ls-files", "-z").split("\0")) - {""}
    found = gitindex.tracked(root, ASKED)
    assert found == {a for a in ASKED if a in listed}
    return found


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_every_index_version_reads_as_git_lists_it(tmp_path: Path, version: str) -> None:
    root = make(tmp_path)
    (root / "new.txt").write_text("x")
    git(root, "add", "--intent-to-add", "new.txt")  # an extended-flags entry (v3+)
    git(root, "update-index", "--index-version", version)
    assert agrees(root) == {".lime/settings.local.json", ".lime/settings.json", "dir/sub/deep name.py"}
    paths, _ = gitindex.entries((root / ".git" / "index").read_bytes())
    assert [p.decode() for p in paths] == sorted(set(FILES) | {"new.txt"}, key=lambda s: s.encode())


def test_an_untracked_local_file_is_not_tracked(tmp_path: Path) -> None:
    root = make(tmp_path)
    git(root, "rm", "-q", "--cached", ".lime/settings.local.json")
    assert ".lime/settings.local.json" not in agrees(root)


def test_split_index_sha256_and_worktrees(tmp_path: Path) -> None:
    root = make(tmp_path, "--object-format=sha256")
    agrees(root)
    git(root, "commit", "-qm", "x")
    git(root, "update-index", "--split-index")
    (root / "b.txt").write_text("b")
    git(root, "add", "b.txt")
    assert list((root / ".git").glob("sharedindex.*"))
    assert ".lime/settings.local.json" in agrees(root)
    other = tmp_path / "wt"
    git(root, "worktree", "add", "-q", str(other))
    assert (other / ".git").is_file()
    assert ".lime/settings.local.json" in gitindex.tracked(other, ASKED)


def test_no_index_means_nothing_tracked_and_garbage_is_unknown(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    assert gitindex.tracked(root, ASKED) == set()
    index = root / ".git" / "index"
    for junk in (b"", b"DIRC\0\0\0\2\xff\xff\xff\xff", b"DIRC\0\0\0\7\0\0\0\0" + b"\0" * 20, b"NOPE" * 40,
                 b"DIRC\0\0\0\4\0\0\0\1" + b"\0" * 62 + b"\xff" * 30):
        index.write_bytes(junk)
        with pytest.raises(gitindex.Unknown):
            gitindex.tracked(root, [".lime/settings.local.json"])


def test_relative_paths() -> None:
    root = Path("/r")
    assert gitindex.relative(root, Path("/r/.lime/settings.local.json")) == ".lime/settings.local.json"
    assert gitindex.relative(root, Path("/elsewhere/x")) is None


def test_a_sparse_index_directory_entry_covers_the_paths_below_it(tmp_path: Path) -> None:
    root = make(tmp_path)
    git(root, "commit", "-qm", "x")
    git(root, "sparse-checkout", "init", "--cone", "--sparse-index")
    git(root, "sparse-checkout", "set", "dir")
    paths, _ = gitindex.entries((root / ".git" / "index").read_bytes())
    assert b".lime/" in paths  # the whole folder is one entry now
    assert gitindex.tracked(root, ASKED) == {".lime/settings.local.json", ".lime/settings.json", "dir/sub/deep name.py"}


def test_a_submodule_covers_the_paths_below_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    commit = "1" * 40
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{commit},.lime")
    assert gitindex.tracked(root, [".lime/settings.local.json", ".limex/a"]) == {".lime/settings.local.json"}
