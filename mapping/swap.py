"""The build's swap journal, apart from mapping.build so that the server can recover at start without
importing pyoxigraph (only server.stores.oxigraph may reach it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mapping.errors import PlanKGError


class SwapJournalError(PlanKGError):
    """A swap journal that cannot be read: the store and dumps need a person to look at them."""


def journal_path(target: Path) -> Path:
    return target.parent / f".{target.name}.swap.json"


def recover_interrupted_swap(store_dir: Path) -> bool:
    """Undo a swap that a killed build left half done (its journal is still there): every target
    gets its previous directory back, never a mix of new store and old dumps. True if it did."""
    journal = journal_path(store_dir)
    if not journal.exists():
        return False
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SwapJournalError(
            f"{journal}: unreadable swap journal ({exc}); restore the store by hand"
        ) from exc
    for step in reversed(plan):
        new, target = Path(step["new"]), Path(step["target"])
        backup = Path(step["backup"]) if step["backup"] else None
        if backup is not None and backup.exists():
            if target.exists():
                shutil.rmtree(target)  # the new directory, swapped in before the kill
            backup.rename(target)
        elif backup is None and target.exists() and not new.exists():
            shutil.rmtree(target)  # there was none before this build: back to none
        if new.exists():
            shutil.rmtree(new, ignore_errors=True)
    journal.unlink()
    return True
