"""``python -m lime.local serve ...``: the background server process lime starts (see ``serve.py``)."""

from __future__ import annotations

import sys


def _main(argv: list[str]) -> int:
    if not argv or argv[0] != "serve":
        print("usage: python -m lime.local serve --model GGUF --ctx N --alias NAME --state-dir DIR "
              "(API key on stdin); use 'lime local start' instead", file=sys.stderr)
        return 2
    from lime.local.serve import main

    return main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
