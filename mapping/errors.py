"""Domain errors that carry a location in the input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Location:
    """A place in a text file: 1-based line and column, and the 0-based code-point offset."""

    source: str
    line: int
    column: int
    offset: int

    @classmethod
    def at(cls, source: str, text: str, offset: int) -> Location:
        before = text[:offset]
        line = before.count("\n") + 1
        column = offset - (before.rfind("\n") + 1) + 1
        return cls(source, line, column, offset)

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


def _restore(cls: type[PlanKGError], args: tuple[object, ...], state: dict[str, object]) -> PlanKGError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class PlanKGError(Exception):
    """Base of the project's domain errors."""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as it is (a build's worker process sends it back): its message and its fields, not
        # its constructor's arguments, which differ from one error to the next.
        return (_restore, (type(self), self.args, self.__dict__))


class DocumentError(PlanKGError):
    """The source document does not have the shape of a plan of this genre."""

    def __init__(self, message: str, location: Location) -> None:
        super().__init__(f"{location}: {message}")
        self.message = message
        self.location = location


class ValidationFailed(PlanKGError):
    """SHACL found violations; ``report`` is the human-readable report naming nodes and rules."""

    def __init__(self, report: str, violations: int) -> None:
        super().__init__(f"SHACL validation failed with {violations} violation(s)\n{report}")
        self.report = report
        self.violations = violations


class BuildError(PlanKGError):
    """The build cannot start or finish for a reason outside one document's text (e.g. no seed file,
    two plans claiming one slug, the same text twice)."""
