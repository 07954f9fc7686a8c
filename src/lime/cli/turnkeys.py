"""The keyboard while an answer streams in the REPL.

- Esc cancels the turn like Ctrl-C: for the length of the turn the terminal's QUIT character is
  Esc, so the terminal itself signals it (nothing reads the keyboard behind the back of the
  approval and MCP prompts, which read lines of their own).
- Nothing typed is echoed into the answer being drawn (an echoed ``^C`` moved the cursor under
  the live region, and a line was drawn twice), and an interrupt does not make the terminal
  driver discard output already written (``NOFLSH``).
- A Ctrl-C (or Esc) that arrives while the screen is being redrawn is held until the redraw is
  done: an interrupt in the middle of a redraw left the live region half-drawn, so its last line
  was printed a second time when the answer was closed.

Approval and plan prompts get the terminal as it was (``paused``).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

ESC = 0x1B


class TurnKeys:
    def __init__(self) -> None:
        self.fd = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else -1
        self._saved: Any = None
        self._depth = 0
        self._pending = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> TurnKeys:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGQUIT):
                self._old[sig] = signal.signal(sig, self._on_signal)
        if self.fd >= 0:
            import termios

            with contextlib.suppress(termios.error):
                self._saved = termios.tcgetattr(self.fd)
                self._turn_mode()
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}
        self._pending = False

    def _turn_mode(self) -> None:
        import termios

        attrs = termios.tcgetattr(self.fd)
        attrs[3] &= ~(termios.ECHO | getattr(termios, "ECHOCTL", 0))
        # NOFLSH: an interrupt must not make the terminal driver drop output already written (half
        # a redraw's cursor moves lost is a line drawn twice).
        attrs[3] |= termios.ISIG | termios.NOFLSH
        cc = list(attrs[6])
        cc[termios.VQUIT] = bytes([ESC]) if isinstance(cc[termios.VQUIT], bytes) else ESC
        attrs[6] = cc
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def _restore(self) -> None:
        if self._saved is not None:
            import termios

            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSANOW, self._saved)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Give the terminal back as it was to a prompt that reads a line."""
        self._restore()
        try:
            yield
        finally:
            if self._saved is not None:
                import termios

                with contextlib.suppress(termios.error):
                    self._turn_mode()

    # -- an interrupt held over a redraw -----------------------------------------------------

    def _on_signal(self, signum: int, frame: Any) -> None:
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
