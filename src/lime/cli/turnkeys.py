"""The keyboard while an answer streams in the REPL.

- Esc cancels the turn like Ctrl-C (a lone Esc byte; arrow keys and other sequences are ignored).
- Keys typed meanwhile are not echoed into the answer being drawn (``^C`` included).
- A Ctrl-C that arrives while the screen is being redrawn is held until the redraw is done: an
  interrupt in the middle of a redraw left the live region half-drawn, so its last line was
  printed a second time when the answer was closed.

Approval and plan prompts read the terminal themselves: ``paused`` hands it back to them.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any


class TurnKeys:
    def __init__(self) -> None:
        self.fd = sys.stdin.fileno() if sys.stdin.isatty() else -1
        self._saved: Any = None
        self._depth = 0
        self._pending = False
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._old_handler: Any = None

    # -- the turn ----------------------------------------------------------------------------

    def __enter__(self) -> TurnKeys:
        if threading.current_thread() is threading.main_thread():
            self._old_handler = signal.signal(signal.SIGINT, self._on_sigint)
        if self.fd >= 0:
            import termios

            with contextlib.suppress(termios.error):
                self._saved = termios.tcgetattr(self.fd)
                self._quiet()
                self._stop.clear()
                self._thread = threading.Thread(target=self._watch, daemon=True)
                self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
            self._thread = None
        self._restore()
        if self._old_handler is not None:
            signal.signal(signal.SIGINT, self._old_handler)
            self._old_handler = None
        self._pending = False

    def _quiet(self) -> None:
        import termios

        attrs = termios.tcgetattr(self.fd)
        attrs[3] &= ~(termios.ICANON | termios.ECHO | getattr(termios, "ECHOCTL", 0))
        attrs[6][termios.VMIN], attrs[6][termios.VTIME] = 1, 0
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def _restore(self) -> None:
        if self._saved is not None:
            import termios

            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSANOW, self._saved)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Give the terminal back (cooked, echoing) to a prompt that reads a line."""
        self._paused.set()
        self._restore()
        try:
            yield
        finally:
            if self._saved is not None and not self._stop.is_set():
                import termios

                with contextlib.suppress(termios.error):
                    self._quiet()
            self._paused.clear()

    # -- Ctrl-C held over a redraw -----------------------------------------------------------

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._depth:
            self._pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def drawing(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._pending and not self._depth:
            self._pending = False
            raise KeyboardInterrupt

    # -- Esc ---------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(0.05)
                continue
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.05)
                if not ready or self._paused.is_set() or self._stop.is_set():
                    continue
                data = os.read(self.fd, 64)
                if data == b"\x1b":
                    more, _, _ = select.select([self.fd], [], [], 0.03)
                    if more:
                        os.read(self.fd, 64)  # an escape sequence (an arrow key): not a cancel
                        continue
                    os.kill(os.getpid(), signal.SIGINT)
            except OSError:
                return
