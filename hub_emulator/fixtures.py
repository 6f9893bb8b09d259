"""What a test arranges before or during a run: users, tokens, seeded repos and buckets, planned failures,
app output. Shared by the Python API and the HTTP control surface; errors are HubErrors (400/404/409).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping

from hub_emulator import auth, ids, runtime
from hub_emulator.blobs import Blob, Content
from hub_emulator.commits import SAMPLE_BYTES, lfs_reason
from hub_emulator.core import Core
from hub_emulator.errors import HubError, bad_request
from hub_emulator.gitrules import check_path
from hub_emulator.repostore import PLURAL, commit, new_repo
from hub_emulator.state import Bucket, BucketFile, FailurePlan, LogLine, Repo, RepoEntry, TokenGrant, User


def _split_id(repo_id: str, what: str) -> tuple[str, str]:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(ids.valid_name(p) for p in parts):
        raise bad_request(f"invalid {what} id {repo_id!r}: expected <namespace>/<name>")
    return parts[0], parts[1]


def add_user(core: Core, name: str, *, orgs: Iterable[str] = (), fullname: str | None = None) -> None:
    if not ids.valid_name(name):
        raise bad_request(f"invalid user name {name!r}")
    with core.lock:
        if name in core.store.orgs:
            raise HubError(409, f"{name} is an organisation")
        user = core.store.users.setdefault(name, User(name, fullname or name))
        for org in orgs:
            if not ids.valid_name(org) or org in core.store.users:
                raise bad_request(f"invalid organisation name {org!r}")
            core.store.orgs.add(org)
            user.orgs.add(org)


def add_token(core: Core, token: str, user: str, role: str = auth.WRITE, label: str | None = None) -> None:
    if role not in auth.ROLES:
        raise bad_request(f"role must be one of {', '.join(auth.ROLES)}, got {role!r}")
    if not token or any(c.isspace() for c in token):
        raise bad_request("a token is a non-empty string without spaces")
    with core.lock:
        if user not in core.store.users:
            raise HubError(404, f"no user {user!r}: add_user first")
        core.add_token(token, TokenGrant(user, role, label or f"{role} token"))


def new_token(core: Core, user: str, role: str = auth.WRITE, label: str | None = None) -> str:
    token = "hf_" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")
    add_token(core, token, user, role, label)
    return token


def add_repo(
    core: Core,
    repo_id: str,
    files: Mapping[str, Content],
    *,
    repo_type: str = "model",
    private: bool = False,
    lfs: Iterable[str] | None = None,
) -> str:
    """Seed a repo (a fixture: never counted as left behind) with one commit of `files`; returns its sha.

    A file is stored through LFS when it is listed in `lfs`, or, when `lfs` is None, when the Hub would have
    put it there (bigger than the regular-file limit, binary, or matching the default LFS patterns).
    Contents are hashed here, in the caller's thread.
    """
    if repo_type not in PLURAL:
        raise bad_request(f"repo_type must be one of {', '.join(PLURAL)}")
    if repo_type == "space":
        raise bad_request("seed Spaces through the API (create_repo + a commit), not as fixtures")
    owner, name = _split_id(repo_id, "repo")
    blobs = {check_path(path): Blob.of(content) for path, content in files.items()}
    forced = set(lfs) if lfs is not None else None
    if forced is not None and not forced <= set(blobs):
        raise bad_request(
            f"lfs names files that are not in the repo: {', '.join(sorted(forced - set(blobs)))}"
        )
    with core.lock:
        if (repo_type, repo_id) in core.store.repos:
            raise HubError(409, f"{repo_type} {repo_id} already exists")
        repo = new_repo(core, repo_type, owner, name, private=private, sdk=None, fixture=True)
        tree = dict(repo.head.files)
        for path, blob in blobs.items():
            as_lfs = (
                path in forced
                if forced is not None
                else lfs_reason(core, repo, path, blob.size, blob.read(0, min(blob.size, SAMPLE_BYTES)))
                is not None
            )
            tree[path] = RepoEntry(blob, lfs=as_lfs)
            if as_lfs:
                core.store.lfs_blobs[blob.sha256] = blob
        return commit(repo, tree, "Upload files (seeded by the test)").oid


def add_bucket(core: Core, bucket_id: str, *, private: bool = False) -> None:
    owner, name = _split_id(bucket_id, "bucket")
    with core.lock:
        if bucket_id in core.store.buckets:
            raise HubError(409, f"bucket {bucket_id} already exists")
        core.store.buckets[bucket_id] = Bucket(owner, name, private, time.time(), fixture=True)


def put_bucket_file(core: Core, bucket_id: str, path: str, content: Content) -> None:
    blob = Blob.of(content)
    check_path(path)
    with core.lock:
        bucket = core.store.buckets.get(bucket_id)
        if bucket is None:
            raise HubError(404, f"no bucket {bucket_id}")
        now = time.time()
        bucket.files[path] = BucketFile(blob, now, now)


def bucket_files(core: Core, bucket_id: str) -> dict[str, int]:
    with core.lock:
        bucket = core.store.buckets.get(bucket_id)
        if bucket is None:
            raise HubError(404, f"no bucket {bucket_id}")
        return {path: f.blob.size for path, f in sorted(bucket.files.items())}


def read_bucket_file(core: Core, bucket_id: str, path: str) -> bytes:
    with core.lock:
        bucket = core.store.buckets.get(bucket_id)
        file = bucket.files.get(path) if bucket is not None else None
        if file is None:
            raise HubError(404, f"no file {path!r} in bucket {bucket_id}")
        return file.blob.read()


def plan_failures(core: Core, kind: str, space_id: str, lines: Iterable[str], times: int | None) -> None:
    """The next `times` builds (kind "build") or app starts (kind "start") of a Space fail with these lines."""
    _split_id(space_id, "Space")
    if times is not None and times < 1:
        raise bad_request("times must be at least 1 (or None for every time)")
    plan = FailurePlan([str(line) for line in lines], times)
    with core.lock:
        (core.store.failing_builds if kind == "build" else core.store.failing_starts)[space_id] = plan


def clear_failures(core: Core, space_id: str) -> None:
    with core.lock:
        core.store.failing_builds.pop(space_id, None)
        core.store.failing_starts.pop(space_id, None)


def _space(core: Core, space_id: str) -> Repo:
    repo = core.store.repos.get(("space", space_id))
    if repo is None:
        raise HubError(404, f"no Space {space_id}")
    core.advance(repo)
    return repo


def append_run_log(core: Core, space_id: str, lines: Iterable[str]) -> None:
    """The app prints these lines now (they show in `fetch_space_logs(build=False)`)."""
    with core.lock:
        space = runtime.space_of(_space(core, space_id))
        now = time.monotonic()
        space.run_log.extend(LogLine(now, str(line)) for line in lines)


def secret_matches(core: Core, space_id: str, key: str, value: str) -> bool:
    """Whether the Space's secret `key` holds `value`, without any route or snapshot revealing it."""
    with core.lock:
        secret = runtime.space_of(_space(core, space_id)).secrets.get(key)
        return secret is not None and secret.digest == core.secret_digest(value)
