"""HubEmulator: the Hub stand-in as a real HTTP server on 127.0.0.1, run in a background thread.

    with HubEmulator(build_seconds=0.05, start_seconds=0.05) as hub:
        hub.add_user("alice")
        api = HfApi(endpoint=hub.url, token=hub.new_token("alice"))

The Python methods act on the same core as the HTTP control surface (/__hub), so a test can mix both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, Unpack

from hub_emulator import fixtures, ids, introspect
from hub_emulator.asgi import UVICORN_OPTIONS, build_app
from hub_emulator.blobs import Content
from hub_emulator.control import PREFIX as CONTROL_PREFIX
from hub_emulator.core import Core
from hub_emulator.reqlog import RequestRecord
from hub_emulator.state import Settings
from hub_emulator.visits import PREFIX as SPACES_PREFIX
from standin.errors import ServiceError
from standin.faults import FaultOptions
from standin.server import StandInServer

T = TypeVar("T")


class HubEmulatorError(RuntimeError):
    """A control call the stand-in refused (bad setting, unknown Space, duplicate repo, ...)."""


def _control(call: Callable[[], T]) -> T:
    try:
        return call()
    except ServiceError as exc:
        raise HubEmulatorError(f"{exc.status}: {exc.message}") from None


class HubEmulator(StandInServer[Core, RequestRecord]):
    def __init__(
        self,
        *,
        latency: float = 0.0,
        bandwidth: float | None = None,
        build_seconds: float = 0.2,
        start_seconds: float = 0.1,
        sleep_time_scale: float = 1.0,
        log_idle_seconds: float = 1.0,
        regular_file_limit: int = 10_000_000,
        tree_page_size: int = 1000,
        cdn_host: str = "localhost",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        core = Core(Settings())
        _control(
            lambda: introspect.apply_settings(
                core,
                {
                    "latency": latency,
                    "bandwidth": bandwidth,
                    "build_seconds": build_seconds,
                    "start_seconds": start_seconds,
                    "sleep_time_scale": sleep_time_scale,
                    "log_idle_seconds": log_idle_seconds,
                    "regular_file_limit": regular_file_limit,
                    "tree_page_size": tree_page_size,
                    "cdn_host": cdn_host,
                },
            )
        )
        super().__init__(
            core,
            build_app(core),
            host=host,
            port=port,
            thread_name="hub-emulator",
            called="the stand-in",
            error=HubEmulatorError,
            uvicorn_options=UVICORN_OPTIONS,
        )

    # --- addresses (start, stop and the context manager come from standin.server) -------------------

    @property
    def url(self) -> str:
        """The endpoint: `HfApi(endpoint=hub.url)` or `HF_ENDPOINT` (the Hub's is https://huggingface.co)."""
        return self.root_url

    @property
    def control_url(self) -> str:
        return self.url + CONTROL_PREFIX

    def space_host(self, space_id: str) -> str:
        """What `space_info(space_id).host` answers: where visits to the Space go."""
        owner, _, name = space_id.partition("/")
        return f"{self.url}{SPACES_PREFIX}/{ids.subdomain(owner, name)}"

    # --- users and tokens -------------------------------------------------------------------------------

    def add_user(self, name: str, *, orgs: Iterable[str] = (), fullname: str | None = None) -> None:
        """A user (and the organisations it belongs to); adding an existing user adds organisations."""
        _control(lambda: fixtures.add_user(self.core, name, orgs=orgs, fullname=fullname))

    def add_token(self, token: str, user: str, role: str = "write", *, label: str | None = None) -> None:
        _control(lambda: fixtures.add_token(self.core, token, user, role, label))

    def new_token(self, user: str, role: str = "write", *, label: str | None = None) -> str:
        """A fresh random token for `user` with role `read` or `write`."""
        return _control(lambda: fixtures.new_token(self.core, user, role, label))

    # --- fixtures: repos and buckets ------------------------------------------------------------------

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, Content],
        *,
        repo_type: str = "model",
        private: bool = False,
        lfs: Iterable[str] | None = None,
    ) -> str:
        """Seed a model or dataset repo with `files` (bytes, str, Path or `synthetic(size)`); returns its sha."""
        return _control(
            lambda: fixtures.add_repo(
                self.core, repo_id, files, repo_type=repo_type, private=private, lfs=lfs
            )
        )

    def add_bucket(self, bucket_id: str, *, private: bool = False) -> None:
        _control(lambda: fixtures.add_bucket(self.core, bucket_id, private=private))

    def put_bucket_file(self, bucket_id: str, path: str, content: Content) -> None:
        """Write a file into a bucket, as a Space with the bucket mounted would (a finished song, say)."""
        _control(lambda: fixtures.put_bucket_file(self.core, bucket_id, path, content))

    def bucket_files(self, bucket_id: str) -> dict[str, int]:
        """Path -> size of every file in the bucket."""
        return _control(lambda: fixtures.bucket_files(self.core, bucket_id))

    def read_bucket_file(self, bucket_id: str, path: str) -> bytes:
        return _control(lambda: fixtures.read_bucket_file(self.core, bucket_id, path))

    # --- fixtures: Space behaviour --------------------------------------------------------------------

    def fail_builds(self, space_id: str, log_lines: Iterable[str], *, times: int | None = None) -> None:
        """The next `times` builds of the Space (every build when None) end in BUILD_ERROR with these lines."""
        _control(lambda: fixtures.plan_failures(self.core, "build", space_id, log_lines, times))

    def fail_starts(self, space_id: str, log_lines: Iterable[str], *, times: int | None = None) -> None:
        """The next `times` app starts end in RUNTIME_ERROR, printing these lines to the run log."""
        _control(lambda: fixtures.plan_failures(self.core, "start", space_id, log_lines, times))

    def clear_failures(self, space_id: str) -> None:
        _control(lambda: fixtures.clear_failures(self.core, space_id))

    def append_run_log(self, space_id: str, lines: Iterable[str]) -> None:
        _control(lambda: fixtures.append_run_log(self.core, space_id, lines))

    def secret_matches(self, space_id: str, key: str, value: str) -> bool:
        return _control(lambda: fixtures.secret_matches(self.core, space_id, key, value))

    # --- switches ---------------------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str = "*",
        path: str = r"/api/.*",
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        **options: Unpack[FaultOptions],
    ) -> None:
        """For the next `times` requests whose method matches (or "*") and whose URL path fully matches the regex
        `path`: answer `status`; `seconds`, `after`, `cut_after` and `message` as standin.faults describes them.
        A bad fault is a HubEmulatorError."""
        try:
            self.core.faults.add(
                method=method, path=path, status=status, times=times, retry_after=retry_after, **options
            )
        except ValueError as exc:
            raise HubEmulatorError(str(exc)) from None

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change any constructor setting but host/port (latency, bandwidth, build_seconds, ...)."""
        return _control(lambda: introspect.apply_settings(self.core, settings))

    def set_latency(self, seconds: float) -> None:
        self.configure(latency=seconds)

    def set_bandwidth(self, bytes_per_second: float | None) -> None:
        self.configure(bandwidth=bytes_per_second)

    def settings(self) -> dict[str, Any]:
        return self.core.settings.snapshot()

    # --- views --------------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return introspect.state_snapshot(self.core)

    def billable(self) -> list[str]:
        return introspect.billable(self.core)

    def leftovers(self) -> list[str]:
        return introspect.leftovers(self.core)
