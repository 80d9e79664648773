"""Peak resident memory of the build, stage by stage (issue 8 point 5: where the peak is).

Linux keeps a process's high-water mark of resident memory (``VmHWM`` in ``/proc/self/status``);
writing ``5`` to ``/proc/self/clear_refs`` resets it to the current resident size, so the mark read
at the end of a stage is that stage's own peak. Worker processes are not in it: ``getrusage``'s
``RUSAGE_CHILDREN`` gives the largest resident size of any child waited for so far (a forked pool's
workers, once the pool is shut down). Where ``/proc`` does not allow this, the figures are None.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class StagePeak:
    """The peaks of one stage, in MiB: this process's, and the largest of the child processes that
    ended during it (None when none ended or none was larger than every earlier one)."""

    process: float | None = None
    children: float | None = None


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text(encoding="ascii").splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def reset_peak() -> bool:
    """Reset this process's high-water mark to its current resident size; False when it cannot be."""
    try:
        _CLEAR_REFS.write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def peak_mib() -> float | None:
    """This process's high-water mark of resident memory (MiB) since the last reset."""
    kib = _status_kib("VmHWM")
    return None if kib is None else round(kib / 1024, 1)


def children_peak_mib() -> float | None:
    """The largest resident size (MiB) of any child process waited for so far; None when none was."""
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(kib / 1024, 1) if kib else None


@contextmanager
def measured() -> Iterator[StagePeak]:
    """Measure the block: the returned ``StagePeak`` is filled when it ends (also on an error)."""
    peak = StagePeak()
    before = children_peak_mib()
    resettable = reset_peak()
    try:
        yield peak
    finally:
        peak.process = peak_mib() if resettable else None
        after = children_peak_mib()
        peak.children = after if after is not None and (before is None or after > before) else None
