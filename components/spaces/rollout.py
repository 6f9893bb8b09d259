"""The Space's rollout: after every change, make it take effect and wait until the Space runs it.

Calls: `get_space_runtime` (polled), `restart_space` (with `factory_reboot` for a rebuild), `pause_space`,
`fetch_space_logs` (the tail of the build or run log). The resource id is the Space's id.

What a change needs, decided from what changed since the last rollout:
- new files: the commit already started a build (files.py); wait for it;
- new build arguments (the upstream pins, Space variables the build reads): a factory restart rebuilds;
- new environment or secrets: the Hub applies them only at the next start, so a running Space is restarted;
  a sleeping or paused one is left at rest (they apply when it next starts: nothing bills meanwhile);
- new hardware or volumes: the Hub restarts a running Space itself; wait for it;
- a Space found failed (BUILD_ERROR, RUNTIME_ERROR) with nothing else new is started again.
Then it waits until the runtime is RUNNING (the new commit, where the Hub reports it), with a progress line on
every stage change and at least once a minute, up to `wait_timeout_s` (songgen-studio:spaceWaitMinutes). On
BUILD_ERROR or RUNTIME_ERROR it fails with the tail of the build or run log. A failed build changes nothing that
a revert cannot fix: the revert is a new commit, which builds again.

On delete it pauses the Space, so nothing bills while the rest of a destroy goes (space.py deletes it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pulumi
from huggingface_hub import SpaceRuntime
from pulumi.dynamic import CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.compare import plain, same
from components.dynamic.diff import KeyedDiff, diff_inputs, gone

from .catalog import AT_REST, FAILED, Stage
from .errors import Category, SpacesError
from .hub import Hub
from .provider import SpacesProvider

INPUTS = ("repo_id", "commit", "build_args", "env", "secrets_version", "volumes", "hardware", "sleep_seconds")
WATCHED = INPUTS[1:]
LOG_TAIL_LINES = 25
# Polls start fast (the stand-in builds in a blink) and settle at one every few seconds.
FIRST_POLL_S = 0.2
MAX_POLL_S = 5.0
# A progress line at least this often while a stage lasts.
PROGRESS_EVERY_S = 60.0
# After a commit, how long the Hub may still show the previous state before the build starts.
PICKUP_GRACE_S = 30.0


def stage_of(runtime: SpaceRuntime) -> Stage:
    raw = runtime.stage.value if hasattr(runtime.stage, "value") else str(runtime.stage)
    try:
        return Stage(raw)
    except ValueError:
        return Stage.BUILDING  # a stage this client does not know yet: keep waiting, bounded by the deadline


def running_sha(runtime: SpaceRuntime) -> str | None:
    sha = (runtime.raw or {}).get("sha")
    return str(sha) if sha else None


def minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def log_tail(hub: Hub, repo_id: str, *, build: bool) -> str:
    try:
        lines = list(hub.call("space logs", lambda api: list(api.fetch_space_logs(repo_id, build=build))))
    except SpacesError as err:
        return f"(the {'build' if build else 'run'} log could not be read: {err.hub_message})"
    tail = [line.rstrip("\n") for line in lines[-LOG_TAIL_LINES:]]
    if not tail:
        return f"(the {'build' if build else 'run'} log is empty)"
    return "\n".join(f"  | {line}" for line in tail)


class SpaceRolloutProvider(SpacesProvider):
    kind = "space"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({key: plain(news.get(key)) for key in (*INPUTS, "wait_timeout_s")}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        # How long to wait is not part of the Space.
        return diff_inputs(olds, news, INPUTS, replace_on=("repo_id",))

    def create(self, props: dict[str, Any]) -> CreateResult:
        repo_id = str(props["repo_id"])
        runtime = self._wait(self.connect(repo_id), repo_id, props, since=time.monotonic(), new_commit=True)
        return CreateResult(repo_id, self._outputs(props, runtime))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        runtime = self.connect(id_).find("space runtime", lambda api: api.get_space_runtime(id_))
        if runtime is None:
            return gone()
        return ReadResult(id_, self._outputs(props, runtime), {key: props.get(key) for key in INPUTS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        repo_id = str(news["repo_id"])
        hub = self.connect(repo_id)
        since = time.monotonic()
        runtime = hub.call("space runtime", lambda api: api.get_space_runtime(repo_id))
        stage = stage_of(runtime)
        changed = {key for key in WATCHED if not same(olds.get(key), news.get(key))}
        if "commit" in changed:
            progress.info(f"space {repo_id}: new files; the Hub builds commit {str(news['commit'])[:12]}")
        elif "build_args" in changed or stage is Stage.BUILD_ERROR:
            self._restart(
                hub,
                repo_id,
                factory=True,
                why="new build arguments" if "build_args" in changed else "its last build failed",
            )
        elif changed & {"env", "secrets_version"} or stage is Stage.RUNTIME_ERROR:
            if stage in AT_REST:
                progress.info(
                    f"space {repo_id}: {stage.value.lower()}; the new settings apply when it next starts "
                    "(it is not woken for them)"
                )
                return UpdateResult(self._outputs(news, runtime))
            why = "new settings" if changed & {"env", "secrets_version"} else "it stopped on an error"
            self._restart(hub, repo_id, factory=False, why=why)
        elif not changed & {"hardware", "volumes"}:
            return UpdateResult(self._outputs(news, runtime))  # the sleep time applies without a restart
        runtime = self._wait(hub, repo_id, news, since=since, new_commit="commit" in changed)
        return UpdateResult(self._outputs(news, runtime))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            self.connect(id_).call("space pause", lambda api: api.pause_space(id_))
        except SpacesError as err:
            if err.category != Category.NOT_FOUND:
                raise
            return
        progress.info(f"space {id_}: paused, so it bills nothing while the rest is removed")

    @staticmethod
    def _restart(hub: Hub, repo_id: str, *, factory: bool, why: str) -> None:
        hub.call("space restart", lambda api: api.restart_space(repo_id, factory_reboot=factory))
        what = "rebuilding it (factory restart)" if factory else "restarting it"
        progress.info(f"space {repo_id}: {why}; {what}")

    def _wait(
        self, hub: Hub, repo_id: str, want: Mapping[str, Any], *, since: float, new_commit: bool
    ) -> SpaceRuntime:
        """Poll until the Space runs the wanted commit, comes to rest, fails, or the time is up.

        After a new commit the Hub may show the previous state for a moment: a Space still without its
        Dockerfile, at rest, or running the old commit is waited for, up to PICKUP_GRACE_S."""
        commit = str(want.get("commit") or "") if new_commit else ""
        timeout = float(want.get("wait_timeout_s") or 5400)
        deadline = since + timeout
        interval, last_stage, last_line = FIRST_POLL_S, None, time.monotonic()
        while True:
            runtime = hub.call("space runtime", lambda api: api.get_space_runtime(repo_id))
            stage, sha, now = stage_of(runtime), running_sha(runtime), time.monotonic()
            elapsed, picking_up = now - since, new_commit and now - since < PICKUP_GRACE_S
            if stage is Stage.RUNNING and (not commit or sha in (None, commit)):
                progress.info(f"space {repo_id}: RUNNING after {minutes(elapsed)}")
                return runtime
            if stage in FAILED and not (picking_up and stage is Stage.NO_APP_FILE):
                raise self._failure(hub, repo_id, runtime, stage)
            if stage in AT_REST and not picking_up:
                progress.warn(
                    f"space {repo_id}: {stage.value} ({'asleep' if stage is Stage.STOPPED else 'paused by its owner'}); "
                    "the change applies when it next starts"
                )
                return runtime
            if stage != last_stage or now - last_line >= PROGRESS_EVERY_S:
                progress.info(f"space {repo_id}: {stage.value} ({minutes(elapsed)} so far)")
                last_stage, last_line = stage, now
            else:
                progress.status(f"space {repo_id}: {stage.value} ({minutes(elapsed)})")
            if now + interval > deadline:
                raise hub.error(
                    f"the Space is still {stage.value} after {minutes(timeout)}",
                    Category.TIMEOUT,
                    f"Look at its logs ({hub.endpoint}/spaces/{repo_id}?logs=container); a first build of the "
                    "CUDA image takes long: raise songgen-studio:spaceWaitMinutes and run pulumi up again, "
                    "which waits again without rebuilding.",
                    operation="wait until running",
                )
            time.sleep(interval)
            interval = min(MAX_POLL_S, interval * 2)

    @staticmethod
    def _failure(hub: Hub, repo_id: str, runtime: SpaceRuntime, stage: Stage) -> SpacesError:
        error = str((runtime.raw or {}).get("errorMessage") or "")
        build = stage in (Stage.BUILD_ERROR, Stage.NO_APP_FILE, Stage.CONFIG_ERROR)
        advice = {
            Stage.BUILD_ERROR: "The image did not build; the build log's last lines are below. Fix docker/ (or the "
            "pins) and run pulumi up again, or revert: either is a new commit, which builds again.",
            Stage.RUNTIME_ERROR: "The container started and stopped; the run log's last lines are below. Fix the "
            "cause (settings, weights, the image) and run pulumi up again, which restarts it.",
            Stage.CONFIG_ERROR: "The Space's README front matter was refused; it is generated by this stack, so "
            "this is a bug here: please report it with the message.",
            Stage.NO_APP_FILE: "The Space has no Dockerfile at its root; run pulumi up again to commit the files.",
        }[stage]
        return SpacesError(
            hub.subject,
            message=f"the Space stopped in {stage.value}" + (f": {error}" if error else ""),
            operation="wait until running",
            category=Category.FAILED,
            suggestion=advice,
            details=log_tail(hub, repo_id, build=build)
            if stage in (Stage.BUILD_ERROR, Stage.RUNTIME_ERROR)
            else "",
        )

    @staticmethod
    def _outputs(props: Mapping[str, Any], runtime: SpaceRuntime) -> dict[str, Any]:
        return {
            **{key: props.get(key) for key in INPUTS},
            "wait_timeout_s": props.get("wait_timeout_s"),
            "stage": stage_of(runtime).value,
            "running_sha": running_sha(runtime) or "",
        }


class SpaceRollout(pulumi.dynamic.Resource, module="spaces", name="SpaceRollout"):
    """Applies every change to the running Space and waits until it runs again."""

    stage: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        repo_id: str,
        commit: pulumi.Input[str],
        build_args: Mapping[str, str],
        env: Mapping[str, str],
        secrets_version: pulumi.Input[int] | None,
        volumes: pulumi.Input[str],
        hardware: str,
        sleep_seconds: int,
        wait_timeout_s: float,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "repo_id": repo_id,
            "commit": commit,
            "build_args": dict(build_args),
            "env": dict(env),
            "secrets_version": secrets_version,
            "volumes": volumes,
            "hardware": hardware,
            "sleep_seconds": sleep_seconds,
            "wait_timeout_s": wait_timeout_s,
            "stage": None,
            "running_sha": None,
        }
        super().__init__(SpaceRolloutProvider(), resource_name, props, opts)
