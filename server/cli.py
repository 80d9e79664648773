"""``plankg build | serve | entities | publish``: thin over ``mapping.build``, ``server.app``,
``mapping.review`` and ``mapping.publish``.

The environment is read once, in ``main``; a command-line flag beats its environment variable, which
beats the default. Domain errors are printed as ``file:line:column: message`` (a malformed document)
or as the SHACL report (violations) with exit status 1, never as a traceback; bad usage exits 2.

Environment: ``PLANKG_SEEDS``, ``PLANKG_LINKSETS``, ``PLANKG_DIST``, ``PLANKG_STORE``, ``PLANKG_BASE`` for
both commands; ``serve`` reads the rest through ``server.settings.Settings.from_env``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

from rich.console import Console

from mapping import versions
from mapping.build import (
    DEFAULT_DIST,
    DEFAULT_SEEDS,
    DEFAULT_STORE,
    RichProgress,
    build,
    default_jobs,
    staleness,
)
from mapping.errors import DocumentError, PlanKGError, ValidationFailed
from mapping.graph import document_graph
from mapping.linksets import DEFAULT_LINKSETS, LinksetError
from mapping.publication import Publication, PublicationError
from mapping.vocab import DEFAULT_BASE, Vocab


def _parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plankg", description="The plan as a knowledge graph.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--seeds",
            type=Path,
            action="append",
            default=None,
            help="a directory of plan texts; repeatable, every plan of every directory goes into one "
            f"graph (env PLANKG_SEEDS, directories separated by ':'; default {DEFAULT_SEEDS})",
        )
        sub.add_argument(
            "--linksets",
            type=Path,
            default=Path(environ.get("PLANKG_LINKSETS", DEFAULT_LINKSETS)),
            help="directory with researchers' linksets, *.csv + *.toml (env PLANKG_LINKSETS; "
            "default %(default)s)",
        )
        sub.add_argument(
            "--dist",
            type=Path,
            default=environ.get("PLANKG_DIST"),
            help=f"dump directory (env PLANKG_DIST; default {DEFAULT_DIST})",
        )
        sub.add_argument(
            "--store",
            type=Path,
            default=environ.get("PLANKG_STORE"),
            help=f"on-disk store directory (env PLANKG_STORE; default {DEFAULT_STORE})",
        )
        sub.add_argument(
            "--base",
            default=environ.get("PLANKG_BASE"),
            help=f"base IRI of the graph, ending in '/' (env PLANKG_BASE; default {DEFAULT_BASE})",
        )

    b = commands.add_parser("build", help="build the store and the dumps from the seeds")
    common(b)
    b.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    b.add_argument(
        "--no-discover",
        action="store_true",
        default=environ.get("PLANKG_DISCOVER", "on").strip().lower() in {"0", "false", "no", "off"},
        help="leave out the machine-found entities (env PLANKG_DISCOVER=off; default: on)",
    )
    b.add_argument(
        "--versions",
        type=Path,
        default=environ.get("PLANKG_VERSIONS"),
        help="archive of the kept builds (env PLANKG_VERSIONS; default: versions beside the store)",
    )
    b.add_argument(
        "--jobs",
        "-j",
        default=environ.get("PLANKG_BUILD_JOBS"),
        help="worker processes reading the plans (env PLANKG_BUILD_JOBS; default: the usable cores)",
    )

    s = commands.add_parser("serve", help="serve the SPARQL endpoint over the built store")
    common(s)
    s.add_argument("--host", default=None, help="interface to listen on (env PLANKG_HOST; default 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (env PLANKG_PORT; default 8000)")
    s.add_argument(
        "--data",
        type=Path,
        action="append",
        default=None,
        metavar="FILE",
        help="further RDF file to serve beside the plan (repeatable; env PLANKG_DATA)",
    )
    s.add_argument(
        "--without-plan",
        action="store_true",
        default=None,
        help="serve only the --data files (env PLANKG_WITHOUT_PLAN)",
    )
    s.add_argument(
        "--query-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time limit per query (env PLANKG_QUERY_TIMEOUT; default 30)",
    )
    s.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="N",
        help="server processes on the port (env PLANKG_SERVER_PROCESSES; default 0: one per core)",
    )
    s.add_argument(
        "--remote-endpoint",
        default=None,
        metavar="URL",
        help="serve a remote SPARQL engine's published build instead of the store (env "
        "PLANKG_REMOTE_ENDPOINT; credentials from PLANKG_REMOTE_USER / PLANKG_REMOTE_PASSWORD)",
    )
    s.add_argument(
        "--build-if-stale",
        action="store_true",
        help="build first when the store or dumps are missing or older than the seeds, ontology or code",
    )
    e = commands.add_parser("entities", help="review the machine-found entities of the seeds")
    e.add_argument(
        "--seeds",
        type=Path,
        default=Path(environ.get("PLANKG_SEEDS", DEFAULT_SEEDS)),
        help="directory with the plan text (env PLANKG_SEEDS; default %(default)s)",
    )
    e.add_argument("--data-dir", type=Path, default=None, help="catalogue directory (default mapping/data)")
    action = e.add_mutually_exclusive_group(required=True)
    action.add_argument("--unreviewed", action="store_true", help="list them with their quotes")
    action.add_argument("--accept", metavar="NAME", help="write NAME into the curated catalogue")
    action.add_argument("--reject", metavar="NAME", help="put NAME on the stop list")
    e.add_argument(
        "--type", choices=["org", "place", "project"], default=None, help="the kind NAME is found as"
    )
    e.add_argument(
        "--key", default=None, help="catalogue key for --accept (lower-case words joined by hyphens)"
    )
    e.add_argument("--name-en", default=None, help="English name for --accept")
    e.add_argument("--note", default=None, help="why, for --reject")

    p = commands.add_parser(
        "publish", help="load the built dumps into a remote SPARQL engine (Graph Store Protocol)"
    )
    common(p)
    p.add_argument(
        "url",
        metavar="URL",
        help="the engine's Graph Store Protocol endpoint that takes writes (Virtuoso: "
        "http://HOST:8890/sparql-graph-crud-auth); credentials from PLANKG_REMOTE_USER / "
        "PLANKG_REMOTE_PASSWORD, PLANKG_REMOTE_AUTH digest (default) or basic",
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run ``plankg``; returns the exit status."""
    environ = dict(os.environ if environ is None else environ)
    try:
        args = _parser(environ).parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or bad usage (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        if args.seeds is None:
            configured = environ.get("PLANKG_SEEDS")
            args.seeds = [Path(p) for p in configured.split(":") if p] if configured else [DEFAULT_SEEDS]
        if args.command == "build":
            return _build(args, environ)
        if args.command == "entities":
            return _entities(args)
        if args.command == "publish":
            return _publish(args, environ)
        return _serve(args, environ)
    except (DocumentError, LinksetError, ValidationFailed) as err:  # `file:line:column: message`; SHACL
        _error(str(err))
    except PlanKGError as err:
        _error(f"plankg: {err}")
    except OSError as err:  # a directory that cannot be read or written, a port in use
        _error(f"plankg {args.command}: {err}")
    except UsageError as err:
        _error(f"plankg {args.command}: {err}")
        return 2
    return 1


class UsageError(Exception):
    """A flag or environment variable has a value the program cannot run with."""


def _error(message: str) -> None:
    print(message, file=sys.stderr)


def _vocab(base: str) -> Vocab:
    try:
        return Vocab(base)
    except ValueError as err:
        raise UsageError(err) from err


def _publication(environ: Mapping[str, str]) -> Publication:
    try:
        return Publication.from_env(environ)
    except PublicationError as err:
        raise UsageError(err) from err


def _keep_versions(environ: Mapping[str, str]) -> int:
    try:
        return versions.parse_keep(environ.get("PLANKG_KEEP_VERSIONS", str(versions.DEFAULT_KEEP)))
    except versions.VersionsError as err:
        raise UsageError(err) from err


def _jobs(value: str | None) -> int:
    """The build's worker processes: a positive whole number, or the usable cores when not given."""
    if value is None or not str(value).strip():
        return default_jobs()
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise UsageError(f"--jobs / PLANKG_BUILD_JOBS must be a positive whole number, not {value!r}")
    return jobs


def _build(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    console = Console(stderr=True, highlight=False, quiet=args.quiet)
    keep = _keep_versions(environ)
    jobs = _jobs(args.jobs)
    result = build(
        args.seeds,
        args.dist or DEFAULT_DIST,
        args.store or DEFAULT_STORE,
        _vocab(args.base or DEFAULT_BASE),
        RichProgress(console),
        linksets_dir=args.linksets,
        publication=_publication(environ),
        make_graph=partial(document_graph, discover=not args.no_discover),
        versions_dir=args.versions,
        keep_versions=keep,
        jobs=jobs,
    )
    console.print(
        f"built {len(result.plans)} plan(s), {len(result.parsed)} read anew: "
        f"{result.triples} triples ({result.quads} quads with the plan graphs and the validation report, "
        f"{result.warnings} SHACL warning(s)) in {result.seconds:.1f} s: "
        f"dumps in {result.dist_dir}, store in {result.store_dir}, build {result.build_id}",
        soft_wrap=True,
    )
    if result.store_delta is not None:  # a rebuild from the previous build (mapping.incremental)
        rows = sum((result.table_rows or {}).values())
        console.print(
            f"rebuilt from the previous build: {len(result.resolved)} plan(s) resolved anew, dump chunks "
            f"of {len(result.chunk_owners)} owner(s) made anew, store updated (+{result.store_delta[0]} "
            f"-{result.store_delta[1]} quads), {rows} table row(s) read again",
            soft_wrap=True,
        )
    return 0


def _entities(args: argparse.Namespace) -> int:
    from mapping import review
    from mapping.entities import DATA_DIR, EntityKind

    data_dir = args.data_dir or DATA_DIR
    kind = None if args.type is None else EntityKind(args.type)
    if args.unreviewed:
        sys.stdout.write(review.format_unreviewed(review.unreviewed(args.seeds, data_dir)))
    elif args.accept is not None:
        path = review.accept(
            args.accept,
            key=args.key,
            name_en=args.name_en,
            kind=kind,
            seeds_dir=args.seeds,
            data_dir=data_dir,
        )
        print(f"accepted {args.accept} into {path}")
    else:
        path = review.reject(args.reject, kind=kind, note=args.note, seeds_dir=args.seeds, data_dir=data_dir)
        print(f"rejected {args.reject}: added to {path}")
    return 0


def _publish(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    import httpx

    from mapping.publish import publish

    user, password = environ.get("PLANKG_REMOTE_USER"), environ.get("PLANKG_REMOTE_PASSWORD")
    scheme = environ.get("PLANKG_REMOTE_AUTH", "digest")
    if (user is None) != (password is None):
        raise UsageError("PLANKG_REMOTE_USER and PLANKG_REMOTE_PASSWORD go together")
    if scheme not in ("digest", "basic"):
        raise UsageError(f"PLANKG_REMOTE_AUTH is digest or basic, not {scheme!r}")
    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"not an http(s) URL: {args.url!r}")
    auth: httpx.Auth | None = None
    if user is not None and password is not None:
        auth = httpx.DigestAuth(user, password) if scheme == "digest" else httpx.BasicAuth(user, password)
    result = publish(args.dist or DEFAULT_DIST, args.url, auth)
    was = f", replacing build {result.replaced}" if result.replaced else ""
    gone = f"; removed <{result.deleted}>" if result.deleted else ""
    Console(stderr=True, highlight=False).print(
        f"published build {result.build_id}: {result.quads} quads, default graph <{result.default_graph}>, "
        f"named graphs {', '.join(result.named_graphs) or 'none'}{was}{gone} in {result.seconds:.1f} s",
        soft_wrap=True,
    )
    return 0


def _serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from server.settings import Settings, SettingsError  # the server's modules only when serving

    try:
        settings = Settings.from_env(
            environ,
            host=args.host,
            port=args.port,
            base=args.base,
            store_dir=args.store,
            dist_dir=args.dist,
            data_files=tuple(args.data) if args.data else None,
            without_plan=args.without_plan,
            query_timeout=args.query_timeout,
            server_processes=args.processes,
            remote_endpoint=args.remote_endpoint,
        )
    except SettingsError as err:
        raise UsageError(err) from err
    if args.build_if_stale and not settings.without_plan and settings.remote_endpoint is None:
        vocab = _vocab(settings.base)
        publication = _publication(environ)
        reason = staleness(
            args.seeds,
            settings.dist_dir,
            settings.store_dir,
            vocab,
            linksets_dir=args.linksets,
            publication=publication,
        )
        console = Console(stderr=True, highlight=False)
        if reason is None:
            console.print(f"store {settings.store_dir} is up to date")
        else:
            console.print(f"building: {reason}")
            build(
                args.seeds,
                settings.dist_dir,
                settings.store_dir,
                vocab,
                RichProgress(console),
                linksets_dir=args.linksets,
                publication=publication,
                versions_dir=settings.archive_dir,
                keep_versions=_keep_versions(environ),
                jobs=_jobs(environ.get("PLANKG_BUILD_JOBS")),
            )

    from server.app import serve

    return serve(settings) or 0


if __name__ == "__main__":
    sys.exit(main())
