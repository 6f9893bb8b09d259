"""Filling the volume: what is already complete (read from disk only), and the fill process for the rest.

A repo whose manifest is complete, for this repo and revision, with every file at its recorded size
(``SONGGEN_VERIFY=full``: and its recorded hash) is ready without any network access. For the others
the entrypoint runs ``songgen_fill`` (the Hub's own client, huggingface_hub, in an environment of its
own: ``SONGGEN_FILL_PYTHON``) and relays its output; a stop signal is passed on to it, and the boot
waits up to ``SONGGEN_STOP_GRACE_SECONDS`` for it to save what it has before it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from .checksums import Expected, file_sha256, verify_local
from .config import MODELS, Settings
from .console import human, log, relay
from .errors import ConfigError, HubError, InsufficientSpaceError, StopRequestedError
from .filljob import NO_SPACE, OK, STOPPED, FillJob, FillResult
from .manifest import Manifest, Target

FILL_MODULE = "songgen_fill"


def free_space(path: Path) -> tuple[int, int]:
    """(free bytes, total bytes) of the filesystem holding path."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize, stats.f_blocks * stats.f_frsize


class Filler:
    """Makes the volume hold verified copies of the runtime bundle and the wanted models."""

    def __init__(self, settings: Settings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()

    def targets(self) -> list[Target]:
        s = self.settings
        manifests = s.data_dir / ".songgen" / "manifests"
        found = [Target("runtime", s.runtime_repo, s.data_dir / "runtime", manifests / "runtime.json")]
        for model_id in s.models:
            repo = MODELS[model_id][0]
            found.append(
                Target(model_id, repo, s.data_dir / "models" / model_id, manifests / f"{model_id}.json")
            )
        return found

    def cached(self, target: Target) -> Manifest | None:
        """The manifest if the local copy is complete; reads only the disk, never the network."""
        manifest = Manifest.load(target.manifest_path)
        if manifest is None or not manifest.complete:
            return None
        if manifest.repo != target.repo or manifest.revision != self.settings.revision:
            return None
        for path, entry in manifest.files.items():
            expected = manifest.overlays.get(path, entry)
            local = target.dest / path
            try:
                if local.stat().st_size != int(expected.get("size", -1)):
                    return None
            except OSError:
                return None
            if self.settings.verify == "full" and not self._content_matches(local, path, entry, manifest):
                log(f"{target.name}: {path} does not match its manifest; it will be fetched again")
                return None
        return manifest

    def _content_matches(self, local: Path, path: str, entry: Mapping[str, Any], manifest: Manifest) -> bool:
        overlay = manifest.overlays.get(path)
        if overlay is not None:
            return file_sha256(local) == overlay.get("sha256")
        return verify_local(local, Expected.from_entry(entry), self.stop)[0]

    def run(self) -> list[Manifest]:
        ready: list[Manifest] = []
        missing: list[Target] = []
        for target in self.targets():
            manifest = self.cached(target)
            if manifest is None:
                missing.append(target)
                continue
            log(
                f"{target.name}: complete on the volume ({len(manifest.files)} files, "
                f"{human(manifest.total_bytes())}); nothing to fetch"
            )
            ready.append(manifest)
        if not missing:
            return ready
        FillProcess(self.settings, self.stop).run(self.job(missing))
        for target in missing:
            manifest = Manifest.load(target.manifest_path)
            if manifest is None or not manifest.complete:
                raise HubError(f"{target.name}: the fill ended without completing {target.repo}")
            ready.append(manifest)
        return ready

    def job(self, targets: list[Target]) -> FillJob:
        s = self.settings
        return FillJob(
            targets=tuple(targets),
            endpoint=s.hf_endpoint,
            revision=s.revision,
            data_dir=s.data_dir,
            verify=s.verify,
            streams=s.fill_streams,
            retries=s.retries,
            retry_base_seconds=s.retry_base_seconds,
            http_timeout_seconds=s.http_timeout_seconds,
            progress_seconds=s.progress_seconds,
            free_space_margin_bytes=s.free_space_margin_bytes,
            assume_free_bytes=s.assume_free_bytes,
        )


class FillProcess:
    """``python -m songgen_fill`` on the fill's own interpreter: its output relayed, stop signals passed on."""

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self.settings = settings
        self.stop = stop
        self.result: FillResult | None = None

    def environment(self) -> dict[str, str]:
        s = self.settings
        env = dict(os.environ)
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "PYTHONHOME"):
            env.pop(name, None)
        if s.hf_token:
            env["HF_TOKEN"] = s.hf_token
        env.update(
            {
                # Only this directory: the app's own packages must not shadow the fill's libraries.
                "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
                "PYTHONUNBUFFERED": "1",
                "HF_ENDPOINT": s.hf_endpoint,
                "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # the fill prints its own progress lines
                "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_DOWNLOAD_TIMEOUT": str(max(1, round(s.http_timeout_seconds))),
                "HF_HUB_ETAG_TIMEOUT": str(max(1, round(s.http_timeout_seconds))),
            }
        )
        env.setdefault("HF_HOME", str(s.cache_dir / "huggingface"))
        # The image ships no bytecode; as for the Studio, compile it once into the cache.
        env.setdefault("PYTHONPYCACHEPREFIX", str(s.cache_dir / "pycache"))
        return env

    def run(self, job: FillJob) -> None:
        command = [self.settings.fill_python, "-s", "-m", FILL_MODULE]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.environment(),
            )
        except OSError as err:
            raise ConfigError(
                f"SONGGEN_FILL_PYTHON={self.settings.fill_python} cannot be started ({err.strerror}): the fill "
                f"needs its own Python environment with huggingface_hub (the image has it at /opt/fill-venv)"
            ) from None
        assert proc.stdin is not None
        assert proc.stdout is not None
        reader = threading.Thread(target=self._relay, args=(proc.stdout,), daemon=True)
        reader.start()
        try:
            proc.stdin.write(job.to_json().encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass  # it ended at once; its output says why
        code = self._wait(proc)
        reader.join(timeout=5)
        self._raise_for(code)

    def _relay(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            result = FillResult.parse(line)
            if result is not None:
                self.result = result
            else:
                relay(line)
        stream.close()

    def _wait(self, proc: subprocess.Popen[bytes]) -> int:
        while proc.poll() is None:
            if self.stop.wait(0.1):
                proc.send_signal(signal.SIGTERM)
                try:
                    return proc.wait(timeout=self.settings.stop_grace_seconds)
                except subprocess.TimeoutExpired:
                    log("the fill did not stop in time; killing it (what it wrote is kept)")
                    proc.kill()
                    return proc.wait()
        return proc.returncode

    def _raise_for(self, code: int) -> None:
        result = self.result
        if self.stop.is_set() or (result is not None and result.status == STOPPED):
            raise StopRequestedError
        if result is None:
            raise HubError(f"the fill process ended with exit code {code} and no result; its output is above")
        if result.status == NO_SPACE:
            raise InsufficientSpaceError(result.message)
        if result.status != OK:
            raise HubError(result.message)
