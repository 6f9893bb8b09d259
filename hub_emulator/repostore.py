"""Repositories as git-like histories: lookups with the Hub's errors, new repos, and commits.

Only the `main` branch exists; any commit id of a repo's history is a valid revision too. Every commit keeps a
full file map (sharing blobs with its parent), so reading at an old commit is a dictionary lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request

from hub_emulator import card, ids
from hub_emulator.auth import Caller, check_read
from hub_emulator.blobs import Blob
from hub_emulator.core import Core
from hub_emulator.errors import repo_not_found, revision_not_found
from hub_emulator.gitrules import DEFAULT_GITATTRIBUTES
from hub_emulator.state import Commit, Repo, RepoEntry

DEFAULT_BRANCH = "main"
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
PLURAL = {"model": "models", "dataset": "datasets", "space": "spaces"}
SINGULAR = {plural: singular for singular, plural in PLURAL.items()}
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def repo_route(router: APIRouter, method: str, suffix: str) -> Callable[[Endpoint], Endpoint]:
    """Register an endpoint at `/api/{models,datasets,spaces}/{owner}/{name}<suffix>`.

    The three repo kinds are spelled out rather than matched by a `{plural}` parameter, which would also
    capture `/api/buckets/...` and other routes with the same shape.
    """

    def register(endpoint: Endpoint) -> Endpoint:
        for plural in PLURAL.values():
            router.add_api_route(f"/api/{plural}/{{owner}}/{{name}}{suffix}", endpoint, methods=[method])
        return endpoint

    return register


def repo_type_of(request: Request) -> str:
    """The repo kind a `/api/<plural>/...` request is about."""
    return SINGULAR[request.url.path.split("/")[2]]


def visible_repo(core: Core, caller: Caller, repo_type: str, repo_id: str) -> Repo:
    """The repo if it exists and this caller may read it, else the Hub's RepoNotFound."""
    repo = core.store.repos.get((repo_type, repo_id))
    if repo is None:
        raise repo_not_found(401 if caller.user is None else 404)
    check_read(caller, repo.owner, repo.private)
    core.advance(repo)
    return repo


def resolve(repo: Repo, revision: str) -> Commit:
    if revision == DEFAULT_BRANCH:
        return repo.head
    if ids.COMMIT_OID.fullmatch(revision):
        for commit in reversed(repo.commits):
            if commit.oid == revision:
                return commit
    raise revision_not_found(revision)


def repo_url(base: str, repo: Repo) -> str:
    return f"{base}/{URL_PREFIX[repo.type]}{repo.id}"


def readme(commit: Commit) -> str | None:
    entry = commit.files.get("README.md")
    if entry is None or entry.lfs:
        return None
    return entry.blob.read().decode("utf-8", errors="replace")


def gitattributes(commit: Commit) -> str:
    entry = commit.files.get(".gitattributes")
    return "" if entry is None or entry.lfs else entry.blob.read().decode("utf-8", errors="replace")


def new_repo(
    core: Core,
    repo_type: str,
    owner: str,
    name: str,
    *,
    private: bool,
    sdk: str | None,
    fixture: bool = False,
) -> Repo:
    """A repo with the Hub's first commit: `.gitattributes`, plus the Space card for a Space."""
    files = {".gitattributes": RepoEntry(Blob.of(DEFAULT_GITATTRIBUTES), lfs=False)}
    if repo_type == "space" and sdk is not None:
        files["README.md"] = RepoEntry(Blob.of(card.default_space_readme(name, sdk)), lfs=False)
    repo_id = f"{owner}/{name}"
    first = Commit(
        ids.commit_oid(repo_id, None, "initial commit"), None, "initial commit", "", time.time(), files
    )
    repo = Repo(repo_type, owner, name, private, time.time(), [first], sdk=sdk, fixture=fixture)
    core.store.repos[(repo_type, repo_id)] = repo
    return repo


def commit(repo: Repo, files: dict[str, RepoEntry], title: str, description: str = "") -> Commit:
    """Append a commit whose tree is exactly `files`."""
    parent = repo.head.oid
    made = Commit(ids.commit_oid(repo.id, parent, title), parent, title, description, time.time(), files)
    repo.commits.append(made)
    return made


def used_storage(commit: Commit) -> int:
    return sum(entry.blob.size for entry in commit.files.values())
