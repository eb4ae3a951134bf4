"""A bench process's own peak memory, for every part (stdlib only: reader's venv imports it too)."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's high-water resident set (VmHWM), in MB. Not ru_maxrss: on Linux that keeps the size of
    the process before it exec'd, i.e. of the bench's parent, which holds the whole feed farm."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
