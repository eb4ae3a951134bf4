"""Locks between programs sharing a data directory: an flock on a small file there, holding the PID of the
program that has it. The lock goes with the program (a crash or kill -9 frees it); the file stays."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import TextIO


class PidLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: TextIO | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free. A file that cannot be opened (a data directory that cannot be written)
        counts as free: what the holder goes on to do fails with its own, clearer error."""
        try:
            fh = open(self.path, "a+")
        except OSError:
            return True
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self.fh = fh
        return True

    def acquire(self, wait: float) -> bool:
        """Take the lock, waiting up to ``wait`` seconds for the program that has it."""
        deadline = time.monotonic() + wait
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def holder(self) -> str:
        """Who has the lock, as "pid 1234"."""
        try:
            text = self.path.read_text().strip()
        except OSError:
            text = ""
        return f"pid {text}" if text.isdigit() else "another program"

    def release(self) -> None:
        if self.fh is not None:
            self.fh.close()  # the lock goes with it; the file stays (removing it would race the next taker)
            self.fh = None
