"""Buckets: create, info, list, settings, delete, and listing their files.

Bucket contents move through Xet on the Hub (`batch`, downloads), which is not modelled: a test puts files into
a bucket with the control API (a Space writing songs to its mounted bucket) and reads them back there or with
`list_bucket_tree`. A file's `xetHash` is its sha256 here, a stand-in for the Xet merkle hash.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from hub_emulator import auth, ids
from hub_emulator.core import Core, get_core
from hub_emulator.errors import HubError, bad_request, entry_not_found, not_modelled, repo_not_found
from hub_emulator.query import query_flag
from hub_emulator.repos import base_url
from hub_emulator.state import Bucket, BucketFile
from standin.jsonbody import opt_bool, opt_str, read_object

router = APIRouter()
BUCKET = "/api/buckets/{namespace}/{name}"


def _namespace(caller: auth.Caller, namespace: str) -> str:
    """`me` is the caller's own namespace."""
    return auth.require_user(caller).name if namespace == "me" else namespace


def _bucket(core: Core, caller: auth.Caller, bucket_id: str) -> Bucket:
    bucket = core.store.buckets.get(bucket_id)
    if bucket is None:
        # RepoNotFound on an /api/buckets/ URL is what `huggingface_hub` turns into BucketNotFoundError.
        raise repo_not_found(401 if caller.user is None else 404)
    auth.check_read(caller, bucket.owner, bucket.private)
    return bucket


def render_bucket(bucket: Bucket) -> dict[str, Any]:
    return {
        "id": bucket.id,
        "private": bucket.private,
        "createdAt": ids.iso(bucket.created_wall),
        "size": sum(f.blob.size for f in bucket.files.values()),
        "totalFiles": len(bucket.files),
    }


@router.post(BUCKET)
async def create_bucket(namespace: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request, required=False)
    for key, what in (("resourceGroupId", "resource groups"), ("region", "regions")):
        if body.get(key) is not None:
            raise not_modelled(what)
    visibility = opt_str(body, "visibility") or "public"
    if visibility not in ("public", "private"):
        raise bad_request(f"visibility must be public or private, got {visibility!r}")
    if not ids.valid_name(name):
        raise bad_request(f"Invalid bucket name {name!r}")
    with core.lock:
        caller = auth.identify(core, request)
        owner = _namespace(caller, namespace)
        auth.check_namespace(caller, owner, "a bucket")
        bucket_id = f"{owner}/{name}"
        if bucket_id in core.store.buckets:
            url = f"{base_url(request)}/buckets/{bucket_id}"
            raise HubError(409, "You already created this bucket", extra={"url": url})
        core.store.buckets[bucket_id] = Bucket(owner, name, visibility == "private", time.time())
        return {"url": f"{base_url(request)}/buckets/{bucket_id}", "name": bucket_id, "id": ids.object_id()}


@router.get(BUCKET)
async def bucket_info(namespace: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        caller = auth.identify(core, request)
        return render_bucket(_bucket(core, caller, f"{_namespace(caller, namespace)}/{name}"))


@router.get("/api/buckets/{namespace}")
async def list_buckets(namespace: str, request: Request) -> list[dict[str, Any]]:
    core = get_core(request)
    search = request.query_params.get("search", "")
    with core.lock:
        caller = auth.identify(core, request)
        owner = _namespace(caller, namespace)
        return [
            render_bucket(b)
            for b in sorted(core.store.buckets.values(), key=lambda b: b.id)
            if b.owner == owner and search in b.name and (not b.private or caller.member_of(b.owner))
        ]


@router.put(BUCKET + "/settings")
async def update_settings(namespace: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    private = opt_bool(await read_object(request), "private")
    if private is None:
        raise bad_request("private is required")
    with core.lock:
        caller = auth.identify(core, request)
        bucket = _bucket(core, caller, f"{_namespace(caller, namespace)}/{name}")
        auth.check_write(caller, bucket.owner, bucket.private, f"bucket {bucket.id}")
        bucket.private = private
        return {}


@router.delete(BUCKET)
async def delete_bucket(namespace: str, name: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    with core.lock:
        caller = auth.identify(core, request)
        bucket = _bucket(core, caller, f"{_namespace(caller, namespace)}/{name}")
        auth.check_write(caller, bucket.owner, bucket.private, f"bucket {bucket.id}")
        del core.store.buckets[bucket.id]
        return {}


@router.get(BUCKET + "/tree")
async def tree_root(namespace: str, name: str, request: Request) -> list[dict[str, Any]]:
    return _tree(request, namespace, name, "")


@router.get(BUCKET + "/tree/{prefix:path}")
async def tree_at(namespace: str, name: str, prefix: str, request: Request) -> list[dict[str, Any]]:
    return _tree(request, namespace, name, prefix.strip("/"))


def _tree(request: Request, namespace: str, name: str, folder: str) -> list[dict[str, Any]]:
    recursive = query_flag(request.query_params.get("recursive"), "recursive")
    core = get_core(request)
    with core.lock:
        caller = auth.identify(core, request)
        bucket = _bucket(core, caller, f"{_namespace(caller, namespace)}/{name}")
        prefix = f"{folder}/" if folder else ""
        below = {p: f for p, f in bucket.files.items() if p.startswith(prefix)}
        if folder and not below:
            raise entry_not_found(f"No folder {folder!r} in bucket {bucket.id}")
        files: list[dict[str, Any]] = []
        folders: dict[str, float] = {}
        for path, file in below.items():
            rest = path[len(prefix) :].split("/")
            for depth in range(1, len(rest) if recursive else min(2, len(rest))):
                key = prefix + "/".join(rest[:depth])
                folders[key] = max(folders.get(key, 0.0), file.uploaded_wall)
            if recursive or len(rest) == 1:
                files.append(render_file(path, file))
        out = [{"type": "directory", "path": p, "uploadedAt": ids.iso(t)} for p, t in folders.items()]
        return sorted(out + files, key=lambda item: item["path"])


def render_file(path: str, file: BucketFile) -> dict[str, Any]:
    return {
        "type": "file",
        "path": path,
        "size": file.blob.size,
        "xetHash": file.blob.sha256,
        "mtime": ids.iso(file.mtime_wall),
        "uploadedAt": ids.iso(file.uploaded_wall),
    }


@router.post(BUCKET + "/paths-info")
async def paths_info(namespace: str, name: str, request: Request) -> list[dict[str, Any]]:
    core = get_core(request)
    paths = (await read_object(request)).get("paths")
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise bad_request("paths must be an array of strings")
    with core.lock:
        caller = auth.identify(core, request)
        bucket = _bucket(core, caller, f"{_namespace(caller, namespace)}/{name}")
        return [render_file(p, bucket.files[p]) for p in paths if p in bucket.files]


@router.post(BUCKET + "/batch")
async def batch(namespace: str, name: str) -> None:
    raise not_modelled("bucket uploads and deletions (they go through Xet); use the control API to put files")
