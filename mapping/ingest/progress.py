"""A rich progress bar of the pages of a document being read (``extract(…, progress=…)``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mapping.ingest.pdf import PageProgress


@contextmanager
def page_bar(name: str, console: Console | None = None) -> Iterator[PageProgress]:
    """A bar ``{name} ━━━━ 3/12 pages`` on stderr while the block runs; yields the callback to pass
    as ``progress``. The bar is removed when the block ends."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(name, total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield advance
