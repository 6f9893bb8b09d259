"""Commits: `preupload` (how each file would travel), the ndjson `commit`, and README `validate-yaml`.

Only regular git blobs are modelled. A file the Hub would route through LFS/Xet (bigger than the regular-file
limit, binary, or matching the repo's `.gitattributes` LFS patterns) is refused at `preupload` with a 400 that
names the file and the reason, so `huggingface_hub` fails before hashing or uploading anything; an `lfsFile`
line in a commit is refused the same way. Commits go to `main` only; pull requests are not modelled.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hub_emulator import auth, card, gitrules, ids, runtime
from hub_emulator.blobs import Blob
from hub_emulator.core import Core, get_core
from hub_emulator.errors import HubError, bad_request, entry_not_found, not_modelled, revision_not_found
from hub_emulator.repos import base_url
from hub_emulator.repostore import (
    DEFAULT_BRANCH,
    URL_PREFIX,
    commit,
    gitattributes,
    repo_route,
    repo_type_of,
    visible_repo,
)
from hub_emulator.state import Repo, RepoEntry
from standin.jsonbody import opt_list, opt_str, read_object

router = APIRouter()
SAMPLE_BYTES = 512


@router.post("/api/validate-yaml")
async def validate_yaml(request: Request) -> JSONResponse:
    body = await read_object(request)
    content, repo_type = opt_str(body, "content"), opt_str(body, "repoType") or "model"
    if content is None:
        raise bad_request("content is required")
    problems = card.validation_problems(content, repo_type)
    if problems:
        return JSONResponse(
            {"error": problems[0], "errors": [{"message": p} for p in problems], "warnings": []},
            status_code=400,
            headers={"X-Error-Message": problems[0].splitlines()[0]},
        )
    return JSONResponse({"errors": [], "warnings": []})


def _writable_main(core: Core, request: Request, owner: str, name: str, revision: str) -> Repo:
    if request.query_params.get("create_pr"):
        raise not_modelled("pull requests (create_pr)")
    if request.query_params.get("hot_reload"):
        raise not_modelled("hot reload")
    caller = auth.identify(core, request)
    repo = visible_repo(core, caller, repo_type_of(request), f"{owner}/{name}")
    auth.check_write(caller, repo.owner, repo.private, f"{repo.type} {repo.id}")
    if revision != DEFAULT_BRANCH:
        if ids.COMMIT_OID.fullmatch(revision):
            raise not_modelled(f"commits to a revision other than {DEFAULT_BRANCH}")
        raise revision_not_found(revision)
    return repo


def lfs_reason(core: Core, repo: Repo, path: str, size: int, sample: bytes) -> str | None:
    """Why the Hub would store this file through LFS/Xet, or None for a regular git blob."""
    if size == 0:
        return None  # empty files always go regular
    limit = core.settings.regular_file_limit
    if size > limit:
        return f"{size} bytes is above the {limit}-byte limit for regular files"
    if b"\0" in sample:
        return "it is a binary file"
    for pattern in gitrules.lfs_patterns(gitattributes(repo.head)):
        if gitrules.attribute_matches(pattern, path):
            return f"it matches the LFS pattern {pattern!r} in .gitattributes"
    return None


def _refusal(path: str, reason: str) -> HubError:
    return not_modelled(
        f"{path!r} would be uploaded through LFS/Xet because {reason}; "
        "the Hub stand-in accepts regular (text, small) files only"
    )


@repo_route(router, "POST", "/preupload/{revision}")
async def preupload(owner: str, name: str, revision: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    body = await read_object(request)
    files = opt_list(body, "files")
    if files is None:
        raise bad_request("files is required")
    gitignore = opt_str(body, "gitIgnore")
    with core.lock:
        repo = _writable_main(core, request, owner, name, revision)
        if gitignore is None and ".gitignore" in repo.head.files:
            gitignore = repo.head.files[".gitignore"].blob.read().decode("utf-8", errors="replace")
        ignore = gitrules.ignore_patterns(gitignore or "")
        answers = []
        for index, item in enumerate(files):
            path, size, sample = _preupload_item(item, index)
            reason = lfs_reason(core, repo, path, size, sample)
            if reason is not None:
                raise _refusal(path, reason)
            existing = repo.head.files.get(path)
            answers.append(
                {
                    "path": path,
                    "uploadMode": "regular",
                    "shouldIgnore": gitrules.ignored(ignore, path),
                    "oid": existing.blob.git_oid if existing is not None and not existing.lfs else None,
                }
            )
        return {"files": answers, "commitOid": repo.head.oid}


def _preupload_item(item: object, index: int) -> tuple[str, int, bytes]:
    if not isinstance(item, dict):
        raise bad_request(f"files[{index}] must be an object")
    path, size, sample = item.get("path"), item.get("size"), item.get("sample", "")
    if not isinstance(path, str):
        raise bad_request(f"files[{index}].path must be a string")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise bad_request(f"files[{index}].size must be a byte count")
    if not isinstance(sample, str):
        raise bad_request(f"files[{index}].sample must be base64 text")
    return gitrules.check_path(path), size, _b64(sample, f"files[{index}].sample")


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{where} is not valid base64") from None


@repo_route(router, "POST", "/commit/{revision}")
async def create_commit(owner: str, name: str, revision: str, request: Request) -> dict[str, Any]:
    core = get_core(request)
    raw = await request.body()
    with core.lock:
        repo = _writable_main(core, request, owner, name, revision)
        if "ndjson" not in request.headers.get("content-type", ""):
            raise not_modelled("commit payloads other than application/x-ndjson")
        header, operations = _split_header(_ndjson(raw))
        parent = header.get("parentCommit")
        if parent is not None and parent != repo.head.oid:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(repo.head.files)
        for key, value in operations:
            _apply(core, repo, files, key, value)
        made = commit(repo, files, header["summary"], header.get("description") or "")
        if repo.space is not None:
            runtime.on_commit(core, repo)
        url = f"{base_url(request)}/{URL_PREFIX[repo.type]}{repo.id}/commit/{made.oid}"
        return {
            "success": True,
            "commitOid": made.oid,
            "commitUrl": url,
            "commitMessage": made.title,
            "hookOutput": "",
            "pullRequestUrl": None,
        }


def _ndjson(raw: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"commit payload line {number} is not JSON: {exc}") from None
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("key"), str)
            or not isinstance(item.get("value"), dict)
        ):
            raise bad_request(f'commit payload line {number} must be {{"key": ..., "value": {{...}}}}')
        out.append((item["key"], item["value"]))
    return out


def _split_header(
    lines: list[tuple[str, dict[str, Any]]],
) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    if not lines or lines[0][0] != "header":
        raise bad_request("the first line of a commit payload must be its header")
    header = lines[0][1]
    if not isinstance(header.get("summary"), str) or not header["summary"].strip():
        raise bad_request("the commit header needs a summary (the commit message)")
    if any(key == "header" for key, _ in lines[1:]):
        raise bad_request("a commit payload has exactly one header")
    return header, lines[1:]


def _apply(core: Core, repo: Repo, files: dict[str, RepoEntry], key: str, value: dict[str, Any]) -> None:
    path = value.get("path")
    if not isinstance(path, str):
        raise bad_request(f"{key}: path must be a string")
    if key == "file":
        if value.get("encoding") != "base64" or not isinstance(value.get("content"), str):
            raise bad_request(f"file {path!r}: content must be base64 text with encoding 'base64'")
        content = _b64(value["content"], f"file {path!r}")
        reason = lfs_reason(core, repo, gitrules.check_path(path), len(content), content[:SAMPLE_BYTES])
        if reason is not None:
            raise _refusal(path, reason)
        files[path] = RepoEntry(Blob.of(content), lfs=False)
    elif key == "lfsFile":
        raise _refusal(path, "the commit says so (lfsFile)")
    elif key == "deletedFile":
        if path not in files:
            raise entry_not_found(f"A file with this name doesn't exist: {path}")
        del files[path]
    elif key == "deletedFolder":
        prefix = path.rstrip("/") + "/"
        doomed = [p for p in files if p.startswith(prefix)]
        if not doomed:
            raise entry_not_found(f"A folder with this name doesn't exist: {path}")
        for p in doomed:
            del files[p]
    else:
        raise bad_request(f"unknown commit operation {key!r} (file, deletedFile, deletedFolder are modelled)")
