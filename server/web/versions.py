"""Kept versions at ``/dumps/versions/`` and change sets at ``/changes``.

* ``/dumps/versions/`` lists the kept builds (``mapping.versions``: the archive's ``index.json``),
  newest first, each with its predecessor, its seeds and its files (JSON or HTML);
* ``/dumps/versions/{build_id}/{file}`` serves one file of a kept build. Only a build id the index
  lists and a file name that build's own manifest lists are served (anything else is a 404 that says
  which), so no path can reach outside the archive. The files never change under their URL:
  ``Cache-Control: public, max-age=31536000, immutable``, ``ETag`` their SHA-256, 304 on a match;
* ``/changes`` is the change set of the build being served (``changes.json`` in the dump directory)
  and ``/changes/{previous}..{current}`` the one of a kept build from its predecessor, JSON or HTML,
  with links to the added and removed quads (N-Quads).

The links in these answers are locations, not identifiers: they are absolute URLs on the origin the
client addressed (behind a trusted proxy, the forwarded one: ``server.protocol.forwarded``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException

from mapping.layout import ADDED_FILE, CHANGES_FILE, REMOVED_FILE
from mapping.versions import BUILD_ID, read_index
from server.protocol import formats as fmts
from server.protocol.canned import json_or_html
from server.protocol.conditional import not_modified
from server.protocol.contract import responses
from server.protocol.forwarded import public_origin
from server.protocol.head import FileAnswer
from server.settings import Settings
from server.web.describe import Site
from server.web.dumps import DUMP_MEDIA_TYPES, Manifest, read_manifest
from server.web.pages import templates

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def _origin(request: Request) -> str:
    return public_origin(request.url.scheme, request.url.netloc)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class VersionRoutes:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prefix = Site(settings.base).prefix
        self.templates = templates()

    # --- blocking helpers (run off the event loop) ---------------------------------------------

    def _listing(self, origin: str) -> dict[str, Any]:
        archive = self.settings.archive_dir
        current = read_manifest(self.settings.dist_dir)
        out = []
        for version in reversed(read_index(archive)):
            manifest = read_manifest(archive / version.build_id)
            base = f"{origin}{self.prefix}dumps/versions/{version.build_id}/"
            out.append(
                {
                    "build_id": version.build_id,
                    "previous": version.previous,
                    "current": current is not None and current.build_id == version.build_id,
                    "url": base,
                    "changes": f"{origin}{self.prefix}changes/{version.previous}..{version.build_id}"
                    if version.previous
                    else None,
                    "source": manifest.source if manifest else {},
                    "files": [
                        {"name": e.name, "url": base + e.name, "bytes": e.size, "sha256": e.sha256}
                        for e in (manifest.entries.values() if manifest else ())
                    ],
                }
            )
        return {"current": current.build_id if current else None, "versions": out}

    def _version_manifest(self, build_id: str) -> Manifest:
        if not BUILD_ID.fullmatch(build_id) or build_id not in {
            v.build_id for v in read_index(self.settings.archive_dir)
        }:
            raise HTTPException(404, f"no kept version {build_id!r}: see {self.prefix}dumps/versions/")
        manifest = read_manifest(self.settings.archive_dir / build_id)
        if manifest is None:
            raise HTTPException(404, f"the kept version {build_id} has no readable manifest")
        return manifest

    def _change_set(self, directory: Path, origin: str, files_url: str) -> dict[str, Any] | None:
        document = _read_json(directory / CHANGES_FILE)
        if document is None:
            return None
        document["files"] = {"added": files_url + ADDED_FILE, "removed": files_url + REMOVED_FILE}
        return document

    # --- routes --------------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        listing = await anyio.to_thread.run_sync(self._listing, _origin(request))
        headers = {"Vary": "Accept", "Cache-Control": REVALIDATE}
        if json_or_html(request) is fmts.HTML:
            context = {"request": request, "prefix": self.prefix, "alternates": [], **listing}
            page: HTMLResponse = self.templates.TemplateResponse(
                request, "versions.html", context, headers=headers
            )
            return page
        return JSONResponse(listing, headers=headers)

    async def file(self, request: Request, build_id: str, name: str) -> Response:
        manifest = await anyio.to_thread.run_sync(self._version_manifest, build_id)
        entry = manifest.entries.get(name)
        if entry is None:
            raise HTTPException(404, f"the version {build_id} has no file {name!r}")
        path = self.settings.archive_dir / build_id / entry.name
        try:
            stat = await anyio.to_thread.run_sync(os.stat, path)
        except OSError:
            raise HTTPException(404, f"the file {name!r} of version {build_id} is missing") from None
        headers = {"Cache-Control": IMMUTABLE, "Content-Disposition": f'attachment; filename="{entry.name}"'}
        etag = f'"{entry.sha256}"' if entry.sha256 else None
        if etag is not None:
            headers["ETag"] = etag
        request.state.outcome = f"version {build_id} {entry.name}"
        if not_modified(request, etag, None):
            return Response(
                status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Disposition"}
            )
        return FileAnswer(path, media_type=entry.media_type, headers=headers, stat_result=stat)

    async def _answer(self, request: Request, document: dict[str, Any], cache: str) -> Response:
        headers = {"Vary": "Accept", "Cache-Control": cache}
        if json_or_html(request) is fmts.HTML:
            context = {"request": request, "prefix": self.prefix, "alternates": [], "changes": document}
            page: HTMLResponse = self.templates.TemplateResponse(
                request, "changes.html", context, headers=headers
            )
            return page
        return JSONResponse(document, headers=headers)

    async def current_changes(self, request: Request) -> Response:
        origin = _origin(request)
        document = await anyio.to_thread.run_sync(
            self._change_set, self.settings.dist_dir, origin, f"{origin}{self.prefix}dumps/"
        )
        if document is None:
            raise HTTPException(404, "the build being served wrote no change set")
        return await self._answer(request, document, REVALIDATE)

    async def changes_between(self, request: Request, span: str) -> Response:
        previous, sep, current = span.partition("..")
        if not sep or not BUILD_ID.fullmatch(previous) or not BUILD_ID.fullmatch(current):
            raise HTTPException(
                404, f"not a change set {span!r}: ask for {{previous}}..{{current}}, two build ids"
            )
        await anyio.to_thread.run_sync(self._version_manifest, current)
        origin = _origin(request)
        document = await anyio.to_thread.run_sync(
            self._change_set,
            self.settings.archive_dir / current,
            origin,
            f"{origin}{self.prefix}dumps/versions/{current}/",
        )
        if document is None or document.get("previous") != previous:
            said = document.get("previous") if document else None
            raise HTTPException(
                404,
                f"no change set from {previous} to {current}: "
                f"the version {current} follows {said or 'nothing'}",
            )
        return await self._answer(request, document, IMMUTABLE)


def make_router(settings: Settings) -> APIRouter:
    routes = VersionRoutes(settings)
    p = routes.prefix
    router = APIRouter(tags=["versions and change sets"])
    router.add_api_route(
        f"{p}dumps/versions/",
        routes.index,
        methods=["GET"],
        name="versions",
        response_class=Response,
        summary="The kept builds, newest first: ids, predecessors, seeds and files (JSON or HTML)",
    )
    router.add_api_route(
        f"{p}dumps/versions/{{build_id}}/{{name}}",
        routes.file,
        methods=["GET"],
        name="version_file",
        response_class=Response,
        summary="One file of a kept build (immutable: long cache, ETag its SHA-256)",
        responses=responses(DUMP_MEDIA_TYPES, 400, 404, also={304: {}}),
    )
    router.add_api_route(
        f"{p}changes",
        routes.current_changes,
        methods=["GET"],
        name="changes",
        response_class=Response,
        summary="The change set of the build being served (JSON or HTML)",
    )
    router.add_api_route(
        f"{p}changes/{{span}}",
        routes.changes_between,
        methods=["GET"],
        name="changes_between",
        response_class=Response,
        summary="The change set {previous}..{current} of a kept build",
        responses=responses(["application/json", "text/html"], 400, 404, 406),
    )
    return router
