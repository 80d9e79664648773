"""Python's own allocations in one stage of a build (``tracemalloc``, started when the stage begins
and stopped when it ends), over a corpus kept by ``bench.corpus --keep``: the plans come from its
per-plan cache (a copy), the dumps and the store are made anew in a new directory, cold.

    python -m bench.stage_alloc --kept DIR --sizes 10 100

Prints one JSON line per size: the stage's seconds, its traced peak and what it still held at its end
(MiB), with the traced allocations of ``versions.description`` and ``dumps.write_description_file``
inside it (``--no-trace``: the stage's seconds only, without tracemalloc's cost).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from mapping import build as b
from mapping import dumps, versions
from mapping.graph import document_graph
from mapping.vocab import DEFAULT_BASE, Vocab

STAGE = "write tables and the description"
_MIB = 1 << 20


class Probe:
    """A progress that traces Python's allocations in ``STAGE`` only."""

    def __init__(self, trace: bool = True) -> None:
        self.figures: dict[str, float] = {}
        self.trace = trace

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if name != STAGE or not self.trace:
            yield
            return
        tracemalloc.start()
        try:
            yield
        finally:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            self.figures["stage_peak_mib"] = round(peak / _MIB, 2)
            self.figures["held_at_end_mib"] = round(current / _MIB, 2)

    def warn(self, text: str) -> None:
        pass

    def around(self, label: str, call: Callable[..., Any]) -> Callable[..., Any]:
        """``call``, noting the traced peak it reached above what was traced when it began."""

        def traced(*args: Any, **kwargs: Any) -> Any:
            if not tracemalloc.is_tracing():
                return call(*args, **kwargs)
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            try:
                return call(*args, **kwargs)
            finally:
                current, peak = tracemalloc.get_traced_memory()
                self.figures[f"{label}_before_mib"] = round(before / _MIB, 2)
                self.figures[f"{label}_peak_mib"] = round(peak / _MIB, 2)
                self.figures[f"{label}_after_mib"] = round(current / _MIB, 2)

        return traced


def measure(kept: Path, size: int, trace: bool = True) -> dict[str, float]:
    probe = Probe(trace)
    described, write = versions.description, dumps.write_description_file
    versions.description = probe.around("versions_description", described)
    dumps.write_description_file = probe.around("write_description_file", write)
    try:
        with tempfile.TemporaryDirectory(prefix="stage-alloc-", dir=kept) as work:
            root = Path(work)
            shutil.copytree(kept / f"out-{size}" / "var" / "cache", root / "cache")
            result = b.build(
                kept / f"seeds-{size}",
                root / "dist",
                root / "var" / "store",
                Vocab(DEFAULT_BASE),
                probe,
                cache_dir=root / "cache",
                make_graph=partial(document_graph, discover=True),
            )
    finally:
        versions.description, dumps.write_description_file = described, write
    seconds = round(result.stage_seconds[STAGE], 2)
    return {"plans": size, "traced": trace, "stage_seconds": seconds, **probe.figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kept", type=Path, required=True, help="a directory of bench.corpus --keep")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--no-trace", action="store_true", help="the stage's seconds only, untraced")
    args = parser.parse_args()
    for size in args.sizes:
        print(json.dumps(measure(args.kept, size, not args.no_trace)), flush=True)


if __name__ == "__main__":
    main()
