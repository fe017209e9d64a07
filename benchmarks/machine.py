"""The machine a benchmark ran on, as its results tables name it.

The scripts run as files (``python benchmarks/x.py``) import it as ``machine``; modules run
with ``-m`` import it as ``benchmarks.machine``.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["cpu_name", "describe"]


def cpu_name() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def describe() -> str:
    """``2 CPUs (<model>), Python 3.11.7, Linux 6.18.44``."""
    return (
        f"{os.cpu_count()} CPUs ({cpu_name()}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
