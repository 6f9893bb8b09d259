"""Identifiers and timestamps in the forms the Hub uses."""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from datetime import UTC, datetime

_COUNTER = itertools.count(1)
COMMIT_OID = re.compile(r"[0-9a-f]{40}")
# The Hub's repo and bucket name rule: letters, digits, '-', '_', '.', not starting or ending with '-' or '.',
# no '--' or '..', at most 96 characters.
NAME = re.compile(r"(?!.*--)(?!.*\.\.)[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?")


def iso(wall: float) -> str:
    """`2026-11-26T13:49:00.123Z`: what `huggingface_hub.utils.parse_datetime` reads."""
    moment = datetime.fromtimestamp(wall, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def wall_of(mono: float) -> float:
    """The wall-clock time of a monotonic instant, so events carry when they happened, not when seen."""
    return time.time() - (time.monotonic() - mono)


def commit_oid(repo_id: str, parent: str | None, title: str) -> str:
    """A fresh 40-hex commit id: unique per commit, like git's, without pretending to be git's hash."""
    seed = f"{repo_id}\0{parent}\0{title}\0{time.time_ns()}\0{next(_COUNTER)}"
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


def tree_oid(commit: str, path: str) -> str:
    return hashlib.sha1(f"tree\0{commit}\0{path}".encode(), usedforsecurity=False).hexdigest()


def object_id() -> str:
    """A 24-hex id like the Hub's `_id` fields."""
    return hashlib.sha1(f"{time.time_ns()}\0{next(_COUNTER)}".encode(), usedforsecurity=False).hexdigest()[
        :24
    ]


def valid_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


def subdomain(owner: str, name: str) -> str:
    """`<owner>-<name>` lowercased with '.' and '_' as '-': the Hub's rule for `<subdomain>.hf.space`."""
    return re.sub(r"[._]", "-", f"{owner}-{name}".lower())
