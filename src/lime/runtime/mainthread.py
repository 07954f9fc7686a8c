"""Work that tools running in other threads need done on the main thread: asking the user.

A question asked from a worker thread reads the terminal there, where Ctrl-C never arrives and
where it would go on reading after the turn was cancelled, taking the next line typed. So while
tools run in threads (sub-agents side by side), the thread that waits for them serves their
questions (``serving`` + ``serve``); with nobody serving, a call runs where it is made.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


class _Slot:
    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.fn()
        except BaseException as exc:  # handed to the thread that asked; Ctrl-C also stops the server
            self.error = exc
            if isinstance(exc, KeyboardInterrupt):
                self.done.set()
                raise
        self.done.set()


class MainThread:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._serving = 0

    def call(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` on the serving thread (this thread when it is that one, or when none serves)."""
        if not self._serving or threading.current_thread() is threading.main_thread():
            return fn()
        slot = _Slot(fn)
        with self._lock:
            self._slots.append(slot)
        while not slot.done.wait(0.05):
            if not self._serving and self._take(slot):
                slot.run()  # the server stopped before reaching it: run it here
        if slot.error is not None:
            raise slot.error
        return slot.value

    def _take(self, slot: _Slot) -> bool:
        with self._lock:
            if slot in self._slots:
                self._slots.remove(slot)
                return True
            return False

    def serve(self) -> None:
        """Run what is waiting (called by the serving thread while it waits)."""
        while True:
            with self._lock:
                slot = self._slots.pop(0) if self._slots else None
            if slot is None:
                return
            slot.run()

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        with self._lock:
            self._serving += 1
        try:
            yield
        finally:
            with self._lock:
                self._serving -= 1
            self.serve()
