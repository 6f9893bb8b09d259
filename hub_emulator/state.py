"""The stand-in's data model: plain dataclasses, no behaviour beyond small derived properties.

All mutation happens under `Core.lock` (core.py): request handlers run on the server's event loop thread while
tests read and switch things from their own thread. Times are on the monotonic clock unless a name says `wall`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub_emulator.blobs import Blob

REPO_TYPES = ("model", "dataset", "space")


@dataclass
class Settings:
    latency: float = 0.0  # seconds added to every request (not to the control surface)
    bandwidth: float | None = None  # bytes per second per download connection; None = unlimited
    build_seconds: float = 0.2  # BUILDING -> APP_STARTING
    start_seconds: float = 0.1  # APP_STARTING -> RUNNING (also a restart or a wake-up)
    sleep_time_scale: float = 1.0  # real seconds per second of a Space's sleep time
    log_idle_seconds: float = 1.0  # a live log stream closes after this long without a new line
    regular_file_limit: int = 10_000_000  # bytes; a bigger file would need LFS/Xet, which is refused
    tree_page_size: int = 1000  # entries per page of /tree listings (the Hub's page size)
    cdn_host: str = "localhost"  # host name LFS downloads are redirected to

    def snapshot(self) -> dict[str, Any]:
        return {
            "latency": self.latency,
            "bandwidth": self.bandwidth,
            "build_seconds": self.build_seconds,
            "start_seconds": self.start_seconds,
            "sleep_time_scale": self.sleep_time_scale,
            "log_idle_seconds": self.log_idle_seconds,
            "regular_file_limit": self.regular_file_limit,
            "tree_page_size": self.tree_page_size,
            "cdn_host": self.cdn_host,
        }


@dataclass
class User:
    name: str
    fullname: str
    orgs: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class TokenGrant:
    user: str
    role: str  # "read" | "write"
    label: str  # shown as accessToken.displayName; never the token itself


@dataclass(frozen=True)
class RepoEntry:
    """One file of a commit: its content and whether the Hub would store it through LFS."""

    blob: Blob
    lfs: bool


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    description: str
    at_wall: float
    files: dict[str, RepoEntry]


@dataclass
class LogLine:
    at: float  # monotonic; a line is visible once its time has come
    text: str


@dataclass
class Step:
    """A stage transition scheduled on the monotonic clock, applied when the Space is next observed."""

    due: float
    stage: str
    sha: str | None = None  # the commit the starting app runs
    lines: tuple[str, ...] = ()  # log lines printed on entering the stage (a failure's output)
    error: str | None = None  # the runtime's errorMessage on entering an error stage


@dataclass
class FailurePlan:
    """Builds (or starts) of one Space that must fail, with the log lines they print."""

    lines: list[str]
    remaining: int | None  # None: every time until cleared


@dataclass
class Secret:
    digest: str  # keyed digest: shows a change without being a hash of the value
    description: str | None
    updated_wall: float


@dataclass
class Variable:
    value: str
    description: str | None
    updated_wall: float


@dataclass
class SpaceRuntimeState:
    stage: str
    requested_hardware: str
    current_hardware: str | None = None  # None until the Space first starts
    sleep_setting: int | None = None  # seconds; -1 never; None: the hardware's default
    secrets: dict[str, Secret] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[Step] = field(default_factory=list)
    build_log: list[LogLine] = field(default_factory=list)
    run_log: list[LogLine] = field(default_factory=list)
    building_sha: str | None = None  # the commit the scheduled build is making an image of
    built_sha: str | None = None  # the commit the last successful build made an image of
    running_sha: str | None = None  # the commit the serving app runs
    running_since: float | None = None
    last_visit: float | None = None
    visits: int = 0
    error_message: str | None = None
    starts: int = 0  # how many times an app was started (a wake-up or restart counts)
    builds: int = 0


@dataclass
class Repo:
    type: str
    owner: str
    name: str
    private: bool
    created_wall: float
    commits: list[Commit]
    sdk: str | None = None  # spaces: the SDK given at creation
    space: SpaceRuntimeState | None = None
    fixture: bool = False  # seeded by a test through the control API, not created through the Hub API

    @property
    def id(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def head(self) -> Commit:
        return self.commits[-1]


@dataclass
class BucketFile:
    blob: Blob
    mtime_wall: float
    uploaded_wall: float


@dataclass
class Bucket:
    owner: str
    name: str
    private: bool
    created_wall: float
    files: dict[str, BucketFile] = field(default_factory=dict)
    fixture: bool = False

    @property
    def id(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Store:
    users: dict[str, User] = field(default_factory=dict)
    orgs: set[str] = field(default_factory=set)
    tokens: dict[bytes, TokenGrant] = field(default_factory=dict)  # sha256(token) -> grant
    repos: dict[tuple[str, str], Repo] = field(default_factory=dict)  # (type, id) -> repo
    buckets: dict[str, Bucket] = field(default_factory=dict)
    lfs_blobs: dict[str, Blob] = field(default_factory=dict)  # sha256 -> blob, what the "CDN" serves
    failing_builds: dict[str, FailurePlan] = field(default_factory=dict)  # space id -> plan
    failing_starts: dict[str, FailurePlan] = field(default_factory=dict)
