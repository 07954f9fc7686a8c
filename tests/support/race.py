"""The attacker's side of the symlink race: swap a workspace directory for a link to outside, back and forth."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SWAPPER = """
import os, sys, time
work, outside = sys.argv[1], sys.argv[2]
d, real = os.path.join(work, "d"), os.path.join(work, "d.real")
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    os.rename(d, real); os.symlink(outside, d)
    os.unlink(d); os.rename(real, d); time.sleep(0)
"""


def start_swapper(work: Path, outside: Path, seconds: float = 60) -> subprocess.Popen[bytes]:
    """``work/d`` (a real directory) becomes a link to ``outside`` and back until killed or ``seconds`` pass."""
    return subprocess.Popen([sys.executable, "-c", SWAPPER, str(work), str(outside), str(seconds)])
