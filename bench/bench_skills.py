"""What skills cost a conversation's start: finding them, and the system prompt's share.

    python bench/bench_skills.py [--skills 50] [--body-kb 20]

``--skills`` skill directories with ``--body-kb`` KB bodies each are found and summarised; the
figures are the time to find them, the bytes the system prompt gains (names and descriptions
only) and the bytes of bodies it does not carry.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skills", type=int, default=50)
    parser.add_argument("--body-kb", type=int, default=20)
    opts = parser.parse_args()

    from lime.runtime.skills import discover, prompt_block

    folder = Path(tempfile.mkdtemp(prefix="lime-bench-skills-"))
    body = ("Step: do the thing carefully.\n" * (opts.body_kb * 1024 // 30))
    for i in range(opts.skills):
        d = folder / f"skill-{i}"
        d.mkdir()
        (d / "SKILL.md").write_text(f"---\ndescription: Skill number {i} for the benchmark\n"
                                    f"allowed-tools: Bash(make test:*)\n---\n{body}")
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        found = discover([("user", folder)])
    found_ms = (time.perf_counter() - start) / runs * 1000
    block = prompt_block(found)
    bodies = sum(len(s.body.encode()) for s in found.values())
    print(f"{len(found)} skills found in {found_ms:.1f} ms")
    print(f"system prompt gains {len(block.encode()):,} bytes ({len(block.encode()) // max(1, len(found))} per skill)")
    print(f"bodies not in the prompt: {bodies:,} bytes ({bodies / max(1, len(block.encode())):.0f}x the block)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
