"""`GET /api/{type}s/{id}/tree/{revision}[/{path}]`: a repo's files and folders, paginated like the Hub, and
`POST .../paths-info/{revision}`: the entries for a list of paths (missing ones left out, as the Hub does).

Pages hold `tree_page_size` entries (1000 on the Hub) and point to the next one with a GitHub-style
`Link: <url>; rel="next"` header, whose cursor is opaque. `expand=true` (last commit and security scan per
entry) is not modelled.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hub_emulator import auth, ids
from hub_emulator.core import get_core
from hub_emulator.errors import bad_request, entry_not_found, not_modelled
from hub_emulator.query import query_flag
from hub_emulator.repostore import repo_route, repo_type_of, resolve, visible_repo
from hub_emulator.state import Commit

router = APIRouter()


@repo_route(router, "GET", "/tree/{revision}")
async def tree_root(owner: str, name: str, revision: str, request: Request) -> JSONResponse:
    return _tree(request, f"{owner}/{name}", revision, "")


@repo_route(router, "GET", "/tree/{revision}/{path:path}")
async def tree_at(owner: str, name: str, revision: str, path: str, request: Request) -> JSONResponse:
    return _tree(request, f"{owner}/{name}", revision, path.strip("/"))


def _tree(request: Request, repo_id: str, revision: str, folder: str) -> JSONResponse:
    params = request.query_params
    if query_flag(params.get("expand"), "expand"):
        raise not_modelled("tree listings with expand=true")
    recursive = query_flag(params.get("recursive"), "recursive")
    core = get_core(request)
    with core.lock:
        repo = visible_repo(core, auth.identify(core, request), repo_type_of(request), repo_id)
        head = resolve(repo, revision)
        entries = list_entries(head, folder, recursive=recursive)
        page_size = core.settings.tree_page_size
    start = _decode_cursor(params.get("cursor"))
    page = entries[start : start + page_size]
    headers = {}
    if start + page_size < len(entries):
        next_url = request.url.include_query_params(cursor=_encode_cursor(start + page_size))
        headers["Link"] = f'<{next_url}>; rel="next"'
    return JSONResponse(page, headers=headers)


@repo_route(router, "POST", "/paths-info/{revision}")
async def paths_info(owner: str, name: str, revision: str, request: Request) -> list[dict[str, Any]]:
    # HfApi sends a form (`paths=a&paths=b&expand=False`), not JSON.
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    if query_flag((form.get("expand") or [""])[0], "expand"):
        raise not_modelled("paths-info with expand=true")
    core = get_core(request)
    with core.lock:
        repo = visible_repo(core, auth.identify(core, request), repo_type_of(request), f"{owner}/{name}")
        commit = resolve(repo, revision)
        out = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.files:
                out.append(_file_entry(commit, path))
            elif any(p.startswith(path + "/") for p in commit.files):
                out.append(
                    {"type": "directory", "oid": ids.tree_oid(commit.oid, path), "size": 0, "path": path}
                )
        return out


def list_entries(commit: Commit, folder: str, *, recursive: bool) -> list[dict[str, Any]]:
    prefix = f"{folder}/" if folder else ""
    below = [path for path in commit.files if path.startswith(prefix)]
    if folder and not below:
        raise entry_not_found(f"Entry not found: no folder {folder!r} at this revision", commit=commit.oid)
    files: list[str] = []
    folders: set[str] = set()
    for path in below:
        rest = path[len(prefix) :].split("/")
        for depth in range(1, len(rest) if recursive else min(2, len(rest))):
            folders.add(prefix + "/".join(rest[:depth]))
        if recursive or len(rest) == 1:
            files.append(path)
    out = [{"type": "directory", "oid": ids.tree_oid(commit.oid, f), "size": 0, "path": f} for f in folders]
    out += [_file_entry(commit, path) for path in files]
    return sorted(out, key=lambda entry: entry["path"])


def _file_entry(commit: Commit, path: str) -> dict[str, Any]:
    entry = commit.files[path]
    out: dict[str, Any] = {"type": "file", "oid": entry.blob.git_oid, "size": entry.blob.size, "path": path}
    if entry.lfs:
        out["oid"] = entry.blob.lfs_pointer_oid()
        out["lfs"] = {
            "oid": entry.blob.sha256,
            "size": entry.blob.size,
            "pointerSize": len(entry.blob.lfs_pointer()),
        }
    return out


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and int(value) >= 0:
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise bad_request(f"invalid cursor {cursor!r}")
