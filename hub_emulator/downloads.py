"""File downloads as `hf_hub_download` / `snapshot_download` read them, and the "CDN" LFS files come from.

`HEAD`/`GET /[{datasets,spaces}/]{id}/resolve/{revision}/{path}`:
- a regular file answers 200 with `ETag` (its git blob id), `X-Repo-Commit`, `Content-Length`, and honours
  `Range` (206 with `Content-Range`, 416 when unsatisfiable);
- an LFS file answers 302 to a signed URL on another host name (`cdn_host`, default `localhost`, same port),
  with `X-Linked-Etag` (its sha256), `X-Linked-Size` and `X-Repo-Commit`. `huggingface_hub` does not follow a
  redirect to another host with its token, which the request log lets a test check.
No `X-Xet-Hash` header is ever sent, which is how the Hub answers for a repo not on Xet: `huggingface_hub` then
downloads over plain HTTP. Bodies are throttled to `bandwidth` bytes/s per connection when set.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub_emulator import auth
from hub_emulator.blobs import Blob
from hub_emulator.core import Core, get_core
from hub_emulator.errors import HubError, entry_not_found
from hub_emulator.repostore import SINGULAR, resolve, visible_repo
from hub_emulator.streaming import StreamResponse, blob_chunks, parse_range

router = APIRouter()
CDN_PREFIX = "/__cdn"
LINK_TTL_S = 3600
_RESOLVE = re.compile(r"/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)")


def is_resolve_path(path: str) -> bool:
    return _RESOLVE.fullmatch(path) is not None


@router.api_route("/{owner}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
async def resolve_model_file(request: Request) -> Response:
    return _resolve(request)


@router.api_route("/datasets/{owner}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
async def resolve_dataset_file(request: Request) -> Response:
    return _resolve(request)


@router.api_route("/spaces/{owner}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
async def resolve_space_file(request: Request) -> Response:
    return _resolve(request)


def _resolve(request: Request) -> Response:
    match = _RESOLVE.fullmatch(request.url.path)
    if match is None:
        raise HubError(404, f"no such route: {request.method} {request.url.path}")
    plural, repo_id, revision, path = match.groups()
    core = get_core(request)
    with core.lock:
        repo = visible_repo(core, auth.identify(core, request), SINGULAR[plural or "models"], repo_id)
        commit = resolve(repo, revision)
        entry = commit.files.get(path)
        if entry is None:
            raise entry_not_found(commit=commit.oid)
        bandwidth = core.settings.bandwidth
        headers = {"X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes"}
        if entry.lfs:
            location = cdn_link(core, request, entry.blob, path.rsplit("/", 1)[-1])
            headers |= {
                "Location": location,
                "ETag": f'"{entry.blob.lfs_pointer_oid()}"',
                "X-Linked-Etag": f'"{entry.blob.sha256}"',
                "X-Linked-Size": str(entry.blob.size),
            }
            body = f"Found. Redirecting to {location}".encode()
            return Response(body, status_code=302, headers=headers, media_type="text/plain")
    return _file_response(request, entry.blob, headers | {"ETag": f'"{entry.blob.git_oid}"'}, bandwidth)


def cdn_link(core: Core, request: Request, blob: Blob, filename: str) -> str:
    expires = str(int(time.time()) + LINK_TTL_S)
    query = urlencode(
        {
            "filename": filename,
            "expires": expires,
            "signature": core.cdn_signature(blob.sha256, filename, expires),
        }
    )
    port = request.url.port or request.scope["server"][1]
    return f"{request.url.scheme}://{core.settings.cdn_host}:{port}{CDN_PREFIX}/lfs/{blob.sha256}?{query}"


@router.api_route(CDN_PREFIX + "/lfs/{sha256}", methods=["GET", "HEAD"])
async def cdn_file(sha256: str, request: Request) -> Response:
    core = get_core(request)
    params = request.query_params
    filename, expires, signature = (
        params.get("filename", ""),
        params.get("expires", ""),
        params.get("signature", ""),
    )
    with core.lock:
        if request.url.hostname != core.settings.cdn_host:
            raise HubError(404, f"no such route on this host: {request.method} {request.url.path}")
        if signature != core.cdn_signature(sha256, filename, expires):
            raise HubError(403, "SignatureDoesNotMatch: the link is not one the Hub signed")
        if not expires.isdigit() or int(expires) < time.time():
            raise HubError(403, "Request has expired")
        blob = core.store.lfs_blobs.get(sha256)
        if blob is None:
            raise HubError(404, "NoSuchKey: the object does not exist")
        bandwidth = core.settings.bandwidth
    headers = {
        "ETag": f'"{sha256}"',
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}; filename=\"{filename}\";",
    }
    return _file_response(request, blob, headers, bandwidth)


def _file_response(
    request: Request, blob: Blob, headers: dict[str, Any], bandwidth: float | None
) -> Response:
    byte_range = parse_range(request.headers.get("range"), blob.size)
    start, end = byte_range if byte_range is not None else (0, blob.size)
    headers = {**headers, "Content-Length": str(end - start)}
    status = 200
    if byte_range is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{blob.size}"
    return StreamResponse(
        blob_chunks(blob, start, end, bandwidth),
        status_code=status,
        headers=headers,
        media_type="application/octet-stream",
    )
