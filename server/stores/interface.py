"""The narrow store interface: all the server asks of its data, and the types of its answers.

Routes depend on this module only; ``server.stores.oxigraph`` holds the embedded Oxigraph implementation
(the only module that imports pyoxigraph), and ``server.stores.remote`` the other: any SPARQL 1.1
Protocol engine holding a build that ``plankg publish`` loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import BinaryIO, Protocol, TypedDict

from typing_extensions import Unpack

from server.protocol.formats import Format, Kind
from server.protocol.results import Solutions, Term, Triple


class ResultKind(Enum):
    SOLUTIONS = "solutions"
    BOOLEAN = "boolean"
    GRAPH = "graph"

    @property
    def format_kind(self) -> Kind:
        return Kind.GRAPH if self is ResultKind.GRAPH else Kind.RESULTS


@dataclass(frozen=True)
class FormatChoice:
    """The negotiated format for each kind of answer; None where the client accepts none."""

    results: Format | None
    graph: Format | None

    def for_kind(self, kind: ResultKind) -> Format | None:
        return self.graph if kind is ResultKind.GRAPH else self.results


class SpooledBody:
    """A complete answer too large to hold in memory: its bytes in a file already unlinked (it
    vanishes with its last open handle), read back in chunks. The file is whole before it is handed
    over, so its status is known before the first byte is sent."""

    CHUNK = 1 << 16

    def __init__(self, file: BinaryIO, size: int) -> None:
        self.file = file
        self.size = size

    def chunks(self) -> Iterator[bytes]:
        """The bytes from the start, ``CHUNK`` at a time; the file is closed at the end."""
        try:
            self.file.seek(0)
            while chunk := self.file.read(self.CHUNK):
                yield chunk
        finally:
            self.file.close()

    def read(self) -> bytes:
        return b"".join(self.chunks())


@dataclass(frozen=True)
class QueryOutcome:
    """A complete answer. ``body`` is set when formats were asked for, ``value`` otherwise; an answer
    larger than the store's spooling threshold comes as ``spooled`` instead of ``body``."""

    kind: ResultKind
    rows: int  # solutions, or triples; 1 for a boolean
    format: Format | None = None
    body: bytes | None = None
    value: Solutions | bool | tuple[Triple, ...] | None = None
    build_id: str | None = None  # of the store that answered (a rebuild may land while a query runs)
    spooled: SpooledBody | None = None

    def body_bytes(self) -> bytes | None:
        """The serialised answer in memory, whether it came whole or spooled."""
        return self.spooled.read() if self.spooled is not None else self.body


@dataclass(frozen=True)
class DatasetDescription:
    build_id: str
    triple_count: int  # quads in every graph
    default_graph_triples: int
    named_graphs: tuple[str, ...]
    sources: tuple[str, ...]  # what was loaded: the plan store and/or data files


class QueryOptions(TypedDict, total=False):
    """How to evaluate a query: the keyword options of :meth:`Store.query`, each optional.

    ``default_graph_uris`` / ``named_graph_uris`` name the dataset (none: the store's own),
    ``formats`` asks for the answer written (``QueryOutcome.body``) rather than as values, ``timeout``
    is in seconds (None: the store's default), ``max_rows`` refuses a longer result, ``base_iri``
    resolves relative IRIs, ``bindings`` pre-bind variables and ``cancel``, once set, stops the query.
    Written once here, so that every store takes the same options under the same names and types.
    """

    default_graph_uris: Sequence[str]
    named_graph_uris: Sequence[str]
    formats: FormatChoice | None
    timeout: float | None
    max_rows: int | None
    base_iri: str | None
    bindings: Mapping[str, Term] | None
    cancel: threading.Event | None


class Store(Protocol):
    """What the server may ask of its data."""

    @property
    def build_id(self) -> str: ...

    @property
    def triple_count(self) -> int: ...

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryOutcome:
        """Evaluate a query (blocking; call it off the event loop) with ``options`` (QueryOptions).

        Raises QuerySyntaxError, NotAcceptable (via ``formats``), TooManyRows, QueryTimeout,
        ServerBusy or StoreFailure; a remote store also EngineUnavailable, EngineTimeout (a
        QueryTimeout) or EngineLimit. ``bindings`` are typed values for variables (never text spliced
        into the query); as in SEP-0007, a bound variable must be in the SELECT projection.
        Setting ``cancel`` (the client went away) stops the query and raises QueryCancelled.
        """
        ...

    def describe_dataset(self) -> DatasetDescription: ...

    def close(self) -> None: ...
