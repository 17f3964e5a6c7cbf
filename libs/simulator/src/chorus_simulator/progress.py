"""A progress bar on standard error, one line per stage."""

from __future__ import annotations

import sys
import time


class Stage:
    def __init__(self, name: str, total: int, quiet: bool) -> None:
        self.name, self.total, self.quiet = name, total, quiet
        self.count = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        # Redrawn in place on a terminal; in a log, only the final line is written.
        live = sys.stderr.isatty()
        if not self.quiet and live and (now - self._drawn > 0.1 or self.count >= self.total):
            self._drawn = now
            self._draw(end="")

    def done(self) -> None:
        if not self.quiet:
            self._draw(end="\n")

    def _draw(self, end: str) -> None:
        width = 30
        filled = width * self.count // max(self.total, 1)
        elapsed = time.monotonic() - self.started
        rate = self.count / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(
            f"\r{self.name:<10} [{bar}] {self.count}/{self.total}"
            f"  {elapsed:6.1f}s  {rate:8.1f}/s{end}"
        )
        sys.stderr.flush()


class Progress:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def stage(self, name: str, total: int) -> Stage:
        return Stage(name, total, self.quiet)
