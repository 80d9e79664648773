"""Mutation testing of four modules with their own tests (``make mutation``; not part of ``make test``).

mutmut (pinned in ``requirements-mutation.txt``) changes one operator, constant or call at a time in a
module and runs the tests that reach the changed function; a mutant the tests still pass on
*survives*. Each module is measured only against its own test files, one module at a time, under
``nice``: the machine is shared, and a mutant killed by some far-away test says nothing of the
module's own tests.

mutmut reads its settings from ``setup.cfg`` in the directory it runs in and copies the packages into
``mutants/`` below it, so each module gets a directory of its own, ``var/mutation/{name}/``, with the
settings written there and links to the repository's packages, tests and data.

Surviving mutants that no test can kill (the changed code behaves the same) are judged by hand and
listed with the reason in ``bench/mutation-equivalent.txt``, one ``mutant name: reason`` a line; the
score counts killed (and timed-out) mutants over all mutants less those equivalent ones.

    python -m bench.mutation                  # all four, targets checked
    python -m bench.mutation safety parser    # some of them
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "var" / "mutation"
EQUIVALENT = REPO / "bench" / "mutation-equivalent.txt"
# What the tests of these modules read besides the packages (seeds, fixtures under tests/).
LINKED = ("mapping", "server", "tests", "seeds", "ontology", "queries", "linksets")


@dataclass(frozen=True, slots=True)
class Target:
    module: str  # the file mutated, relative to the repository
    tests: str  # a glob of the module's own test files under tests/
    target: float  # the share of non-equivalent mutants to kill


TARGETS = {
    "safety": Target("server/protocol/safety.py", "test_safety*.py", 0.90),
    "numbers": Target("mapping/numbers.py", "test_numbers*.py", 0.95),
    "parser": Target("mapping/parser.py", "test_parser*.py", 0.95),
    "negotiation": Target("server/protocol/negotiation.py", "test_negotiation*.py", 0.95),
}


def settings(target: Target) -> str:
    """mutmut's ``setup.cfg``: mutate one file, run its own tests only."""
    tests = sorted(f"tests/{p.name}" for p in (REPO / "tests").glob(target.tests))
    if not tests:
        raise SystemExit(f"no test files tests/{target.tests} for {target.module}")
    lines = ["[mutmut]", "source_paths =", "    mapping", "    server", f"only_mutate = {target.module}"]
    lines += ["also_copy =", *(f"    {d}" for d in LINKED[3:])]
    lines += ["pytest_add_cli_args_test_selection =", *(f"    {t}" for t in tests)]
    # Not the tests marked slow: they start query worker processes, which a forked mutant hangs on;
    # they test the store's isolation, not the module's decisions.
    lines += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider", "    -m", "    not slow"]
    return "\n".join(lines) + "\n"


def prepare(name: str, target: Target) -> Path:
    """A fresh working directory for one module: settings, links to the repository, pytest's config."""
    work = WORK / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for entry in LINKED:
        (work / entry).symlink_to(REPO / entry, target_is_directory=True)
    shutil.copy2(REPO / "pyproject.toml", work / "pyproject.toml")  # pytest's options, no [tool.mutmut]
    (work / "setup.cfg").write_text(settings(target), encoding="utf-8")
    return work


def equivalent_mutants(path: Path = EQUIVALENT) -> dict[str, str]:
    """``mutant name: reason`` lines (``#`` comments and blank lines skipped)."""
    judged: dict[str, str] = {}
    if not path.exists():
        return judged
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        mutant, sep, reason = line.partition(":")
        if not sep or not reason.strip():
            raise SystemExit(f"{path}:{number}: expected 'mutant name: reason'")
        judged[mutant.strip()] = reason.strip()
    return judged


def statuses(work: Path, mutmut: Path) -> dict[str, str]:
    """Every mutant of the run in ``work`` with its status (killed, survived, timeout, no tests…)."""
    out = subprocess.run(
        [str(mutmut), "results", "--all", "true"], cwd=work, check=True, capture_output=True, text=True
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        mutant, sep, status = line.strip().rpartition(": ")
        if sep and mutant:
            found[mutant] = status
    return found


@dataclass(frozen=True, slots=True)
class Score:
    counts: Counter[str]
    survivors: tuple[str, ...]  # not killed, not judged equivalent
    equivalent: tuple[str, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def killed(self) -> int:
        return self.counts["killed"] + self.counts["timeout"]

    @property
    def raw(self) -> float:
        return self.killed / self.total if self.total else 0.0

    @property
    def judged(self) -> float:
        counted = self.total - len(self.equivalent)
        return self.killed / counted if counted else 0.0


def score(found: dict[str, str], judged: dict[str, str]) -> Score:
    alive = sorted(m for m, s in found.items() if s not in ("killed", "timeout"))
    equivalent = tuple(m for m in alive if m in judged)
    return Score(Counter(found.values()), tuple(m for m in alive if m not in judged), equivalent)


def run(name: str, target: Target, mutmut: Path, children: int) -> Score:
    work = prepare(name, target)
    command = ["nice", "-n", "10", str(mutmut), "run", "--max-children", str(children)]
    print(f"== {name}: {target.module} against tests/{target.tests} ({' '.join(command[3:])})", flush=True)
    subprocess.run(command, cwd=work, check=True, stdout=subprocess.DEVNULL)
    return score(statuses(work, mutmut), equivalent_mutants())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help=f"modules, of {', '.join(TARGETS)} (default: all four)")
    parser.add_argument("--children", type=int, default=3, help="mutants run at once (default 3)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}: choose from {', '.join(TARGETS)}")
    mutmut = Path(sys.executable).parent / "mutmut"
    if not mutmut.exists():
        raise SystemExit(f"{mutmut} not found: pip install -r requirements-mutation.txt")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    missed = []
    for name in args.names or ["safety", "parser", "numbers", "negotiation"]:
        target = TARGETS[name]
        result = run(name, target, mutmut, args.children)
        counts = ", ".join(f"{n} {s}" for s, n in sorted(result.counts.items()))
        print(f"{name}: {result.total} mutants ({counts}); killed {result.killed} = {result.raw:.1%};")
        judged = f"{result.judged:.1%} (target {target.target:.0%})"
        print(f"  less {len(result.equivalent)} judged equivalent: {judged}")
        for mutant in result.survivors:
            print(f"  survived: {mutant}")
        if result.survivors:
            print(f"  (see one with: cd var/mutation/{name} && mutmut show NAME)")
        if result.judged < target.target:
            missed.append(name)
    if missed:
        print(f"below target: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
