"""The fill: plan every repo, check the room once, fetch every missing range in parallel, verify, record.

Threads: ``job.streams`` download workers (each one connection at a time) and this module's caller,
which every second makes the written data durable and records it (``PartialFile.save``), writes the
manifests that changed and notices a stop. A file is moved into place only once its hash matches the
repo's listing, then recorded in its repo's manifest; a repo whose files are all in place is marked
complete at once, while the others still download.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from songgen_boot.console import human, log
from songgen_boot.errors import HubError, StopRequestedError, TransientError
from songgen_boot.fill import free_space
from songgen_boot.filljob import FillJob, incomplete_dir
from songgen_boot.manifest import Target
from songgen_boot.progress import Progress

from .partial import PartialFile, Ranges
from .plan import FreeBytes, TargetPlan, check_space, legacy_partial, plan_target
from .remote import Remote
from .transfer import FileFetch, Scheduler, Segment, fetch_range

_T = TypeVar("_T")
CHECKPOINT_SECONDS = 1.0  # how much a crash can cost: the ranges written since the last checkpoint
STOP_WAIT_SECONDS = 10.0  # how long a stop waits for the workers to leave their current read


class Fill:
    def __init__(
        self, job: FillJob, stop: threading.Event, token: str | None, free_bytes: FreeBytes = free_space
    ) -> None:
        self.job = job
        self.stop = stop
        self.remote = Remote(job.endpoint, token, job.http_timeout_seconds)
        self._free_bytes = free_bytes
        self.downloaded = 0
        self._lock = threading.Lock()
        self._plans: dict[str, TargetPlan] = {}
        self._remaining: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._progress = Progress(0, job.progress_seconds)

    def run(self) -> int:
        """Bytes downloaded; raises InsufficientSpaceError, HubError or StopRequestedError."""
        plans = [self._plan(target) for target in self.job.targets]
        check_space(plans, self.job, self._free_bytes)
        files: list[FileFetch] = []
        for plan in plans:
            self._plans[plan.target.name] = plan
            self._remaining[plan.target.name] = len(plan.fetches)
            plan.manifest.complete = False
            plan.manifest.save(plan.target.manifest_path)
            files += plan.fetches
        self._progress = Progress(sum(p.needed for p in plans), self.job.progress_seconds)
        for plan in plans:
            if not plan.fetches:
                self._target_done(plan)
        if files:
            self._transfer(files)
        log(f"fill done: {human(self.downloaded)} downloaded")
        return self.downloaded

    def _plan(self, target: Target) -> TargetPlan:
        log(f"{target.name}: checking {target.repo}@{self.job.revision} on {self.job.endpoint}")
        return self._retrying(
            f"{target.name}: listing {target.repo}",
            lambda: plan_target(target, self.job, self.remote, self.stop),
        )

    def _retrying(self, what: str, action: Callable[[], _T]) -> _T:
        delay = self.job.retry_base_seconds
        for attempt in range(1, self.job.retries + 1):
            if self.stop.is_set():
                raise StopRequestedError
            try:
                return action()
            except TransientError as err:
                if attempt == self.job.retries:
                    raise HubError(f"{what}: giving up after {attempt} attempts: {err}") from None
                log(f"{what}: {err}; retrying in {delay:g} s (attempt {attempt + 1}/{self.job.retries})")
                if self.stop.wait(delay):
                    raise StopRequestedError from None
                delay = min(delay * 2, 60.0)
        raise AssertionError("unreachable")

    # ---- the transfer ----

    def _transfer(self, files: Sequence[FileFetch]) -> None:
        scheduler = Scheduler(list(files), self.stop)
        for file in files:
            if file.partial.complete():  # nothing left to fetch (an empty file, or all ranges from before)
                file.partial.open()
                self._finish_if_complete(file, scheduler)
        workers = [
            threading.Thread(target=self._work, args=(scheduler,), name=f"fill-{n}", daemon=True)
            for n in range(min(self.job.streams, len(files)))
        ]
        for worker in workers:
            worker.start()
        try:
            self._supervise(workers, scheduler)
        finally:
            self._checkpoint(files)
        if scheduler.failure is not None:
            raise scheduler.failure
        if self.stop.is_set():
            raise StopRequestedError

    def _supervise(self, workers: list[threading.Thread], scheduler: Scheduler) -> None:
        files = [f for plan in self._plans.values() for f in plan.fetches]
        last = time.monotonic()
        stop_deadline: float | None = None
        while alive := [w for w in workers if w.is_alive()]:
            alive[0].join(0.2)
            now = time.monotonic()
            if now - last >= CHECKPOINT_SECONDS:
                self._checkpoint(files)
                last = now
            if self.stop.is_set() or scheduler.failure is not None:
                scheduler.wake()
                stop_deadline = stop_deadline or now + STOP_WAIT_SECONDS
                if now > stop_deadline:
                    log("a download did not notice the stop in time; leaving it")
                    return

    def _work(self, scheduler: Scheduler) -> None:
        try:
            while (segment := scheduler.take()) is not None:
                try:
                    self._fetch(segment, scheduler)
                finally:
                    scheduler.release(segment)
                self._finish_if_complete(segment.file, scheduler)
        except StopRequestedError:
            scheduler.wake()
        except BaseException as err:  # ends the whole fill; the first failure is the one reported
            scheduler.fail(err)

    def _fetch(self, segment: Segment, scheduler: Scheduler) -> None:
        file = segment.file
        delay = self.job.retry_base_seconds
        while True:
            try:
                fetch_range(segment, scheduler, self.remote, self.stop, self._received)
                return
            except TransientError as err:
                attempts = self._failed(file, err)
                log(
                    f"{file.label}: {err}; retrying in {delay:g} s (attempt {attempts + 1}/{self.job.retries})"
                )
                if self.stop.wait(delay):
                    raise StopRequestedError from None
                delay = min(delay * 2, 60.0)

    def _failed(self, file: FileFetch, error: Exception) -> int:
        with file.lock:
            file.attempts += 1
            attempts = file.attempts
        if attempts >= self.job.retries:
            raise HubError(f"{file.label}: giving up after {attempts} attempts: {error}")
        return attempts

    def _received(self, file: FileFetch, count: int) -> None:
        with self._lock:
            self.downloaded += count
        self._progress.advance(file.label, file.partial.done, file.size, count)

    def _finish_if_complete(self, file: FileFetch, scheduler: Scheduler) -> None:
        """Verify a file whose every byte is written; move it into place, or fetch it again whole."""
        with file.lock:
            if file.finishing or not file.partial.complete():
                return
            file.finishing = True
        ok, why = file.partial.verified(self.stop)
        if ok:
            file.partial.finish(file.dest)
            legacy_partial(file.dest).unlink(missing_ok=True)
            self._file_done(file)
            scheduler.file_done()
            return
        log(f"{file.label}: {why}; fetching it again")
        file.partial.discard()
        self._failed(file, TransientError(why))
        with file.lock:
            file.partial = PartialFile(file.partial.data, file.remote.expected, Ranges())
            file.finishing = False
        scheduler.refetch(file)

    # ---- records ----

    def _file_done(self, file: FileFetch) -> None:
        plan = self._plans[file.target.name]
        with self._lock:
            plan.manifest.files[file.remote.path] = file.remote.expected.entry()
            self._remaining[file.target.name] -= 1
            finished = self._remaining[file.target.name] == 0
            self._dirty.add(file.target.name)
        if finished:
            self._target_done(plan)

    def _target_done(self, plan: TargetPlan) -> None:
        with self._lock:
            plan.manifest.complete = True
            plan.manifest.save(plan.target.manifest_path)
            self._dirty.discard(plan.target.name)
        # Whatever is still there belongs to no file of this commit (a file an earlier revision had).
        shutil.rmtree(incomplete_dir(self.job.data_dir) / plan.target.name, ignore_errors=True)
        log(
            f"{plan.target.name}: complete ({len(plan.manifest.files)} files, "
            f"{human(plan.manifest.total_bytes())}), verified"
        )

    def _checkpoint(self, files: Sequence[FileFetch]) -> None:
        for file in files:
            if not file.finishing:
                file.partial.save()
        with self._lock:
            for name in sorted(self._dirty):
                plan = self._plans[name]
                plan.manifest.save(plan.target.manifest_path)
            self._dirty.clear()
