"""The settings, read from the environment (see the package docstring), and the known models."""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .console import GB
from .env import EnvReader, is_http_url

# model id (the Studio's name and directory) -> (Hugging Face repo, short name)
MODELS: dict[str, tuple[str, str]] = {
    "songgeneration_base": ("lglg666/SongGeneration-base", "base"),
    "songgeneration_base_new": ("lglg666/SongGeneration-base-new", "base-new"),
    "songgeneration_base_full": ("lglg666/SongGeneration-base-full", "base-full"),
    "songgeneration_large": ("lglg666/SongGeneration-large", "large"),
}

# What "stop when idle" means: fly exits 0 (Fly stops the machine), spaces keeps the Space awake only
# while busy (its sleep timer does the rest), kubernetes scales its own Deployment to zero.
PLATFORMS = ("fly", "spaces", "kubernetes")
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
# A ping every quarter of the sleep time leaves three missed pings before the Space could sleep.
KEEPAWAKE_FRACTION = 0.25
KEEPAWAKE_MAX_SECONDS = 300.0
MAX_FILL_STREAMS = 64
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


@dataclasses.dataclass(frozen=True)
class KeepAwakeSettings:
    """Spaces: the Space's own URL, requested while work runs so its sleep timer does not stop it."""

    url: str
    period_seconds: float
    space_host: str | None  # SPACE_HOST: the only host the HF token is sent to


@dataclasses.dataclass(frozen=True)
class KubernetesSettings:
    """Kubernetes: where the API server is and which Deployment is this Studio's own."""

    api_host: str
    api_port: int
    deployment: str
    namespace: str | None  # None: the service account's namespace file
    service_account_dir: Path
    retry_seconds: float  # first back-off after a failed scale; doubles up to 10 minutes


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("/data")
    app_dir: Path = Path("/opt/songgen/app")
    overlay_dir: Path = Path("/opt/songgen/overlay")
    models: tuple[str, ...] = ("songgeneration_base",)
    runtime_repo: str = "lglg666/SongGeneration-Runtime"
    revision: str = "main"
    idle_stop_seconds: float = 15 * 60.0
    idle_poll_seconds: float = 30.0
    idle_ignore_paths: tuple[str, ...] = ("/api/health",)
    port: int = 7860
    host: str = "0.0.0.0"  # noqa: S104 - the Studio must be reachable by the platform's proxy
    hf_endpoint: str = "https://huggingface.co"
    hf_token: str | None = dataclasses.field(default=None, repr=False)
    download: bool = True
    verify: str = "size"
    free_space_margin_bytes: int = 2 * GB
    assume_free_bytes: int | None = None
    stop_grace_seconds: float = 20.0
    run_as: str = "songgen"
    python: str = sys.executable
    retries: int = 8
    retry_base_seconds: float = 2.0
    http_timeout_seconds: float = 60.0
    progress_seconds: float = 10.0
    fill_python: str = "/opt/fill-venv/bin/python"  # the fill's own environment (huggingface_hub)
    fill_streams: int = 8
    # ---- platforms and storage ----
    platform: str = "fly"
    keepawake: KeepAwakeSettings | None = None  # spaces with idle stop on
    kubernetes: KubernetesSettings | None = None  # kubernetes with idle stop on
    drain_seconds: float = 0.0
    weights_dir: Path | None = None  # read-only mounts of the weight repos instead of a fill
    copy_models: bool = False
    local_dir: Path = Path("/opt/songgen/local")
    data_bucket: bool = False
    state_sync_seconds: float = 5.0
    cache_dir: Path = Path("/data/cache")  # from_env: SONGGEN_CACHE_DIR, else <data_dir>/cache

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        reader = EnvReader(env)
        data_dir = reader.path("SONGGEN_DATA_DIR", cls.data_dir)
        fields: dict[str, Any] = {
            **_paths(reader, data_dir),
            **_hub(reader),
            **_fill(reader),
            **_studio(reader),
            **_storage(reader, data_dir),
        }
        fields.update(_platform(reader, fields["idle_stop_seconds"]))
        reader.raise_if_invalid()
        return cls(**fields)

    @property
    def state_dir(self) -> Path:
        """Where the Studio's state files live: on local disk when the data dir is a bucket."""
        return self.local_dir / "state" if self.data_bucket else self.data_dir

    @property
    def uses_local_dir(self) -> bool:
        return self.weights_dir is not None or self.data_bucket

    def describe(self) -> str:
        idle = f"{self.idle_stop_seconds / 60:g} min" if self.idle_stop_seconds > 0 else "off"
        weights = "fill from the Hub" if self.weights_dir is None else f"mounted at {self.weights_dir}"
        if self.copy_models:
            weights += f", models copied to {self.local_dir}"
        data = f"{self.data_dir}{' (bucket)' if self.data_bucket else ''}"
        drain = f" drain={self.drain_seconds:g}s" if self.drain_seconds > 0 else ""
        return (
            f"platform={self.platform} data={data} weights={weights} app={self.app_dir} "
            f"models={','.join(self.models) or 'none'} port={self.port} idle-stop={idle}{drain} "
            f"hf={self.hf_endpoint} revision={self.revision} token={'set' if self.hf_token else 'unset'}"
        )


# ---- one function per group of variables; each returns Settings fields ----


def _paths(reader: EnvReader, data_dir: Path) -> dict[str, Any]:
    return {
        "data_dir": data_dir,
        "app_dir": reader.path("SONGGEN_APP_DIR", Settings.app_dir),
        "overlay_dir": reader.path("SONGGEN_OVERLAY_DIR", Settings.overlay_dir),
        "local_dir": reader.path("SONGGEN_LOCAL_DIR", Settings.local_dir),
        "cache_dir": reader.path("SONGGEN_CACHE_DIR", data_dir / "cache"),
        "python": reader.text("SONGGEN_PYTHON", Settings.python),
    }


def _hub(reader: EnvReader) -> dict[str, Any]:
    runtime_repo = reader.text("SONGGEN_RUNTIME_REPO", Settings.runtime_repo)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", runtime_repo):
        reader.problem(f"SONGGEN_RUNTIME_REPO={runtime_repo!r} must look like owner/name")
    token = reader.optional_text("HF_TOKEN") or reader.optional_text("HUGGING_FACE_HUB_TOKEN")
    return {
        "hf_endpoint": reader.url("HF_ENDPOINT", Settings.hf_endpoint),
        "hf_token": token,
        "runtime_repo": runtime_repo,
        "revision": reader.text("SONGGEN_HF_REVISION", Settings.revision),
    }


def _fill(reader: EnvReader) -> dict[str, Any]:
    return {
        "models": parse_models(reader.env.get("SONGGEN_MODELS", "base"), reader.problems),
        "download": reader.flag("SONGGEN_DOWNLOAD", Settings.download),
        "verify": reader.choice("SONGGEN_VERIFY", Settings.verify, ("size", "full")),
        "free_space_margin_bytes": int(
            reader.number("SONGGEN_FREE_SPACE_MARGIN_GB", Settings.free_space_margin_bytes / GB) * GB
        ),
        "assume_free_bytes": reader.whole_number("SONGGEN_ASSUME_FREE_BYTES", "bytes"),
        "retries": int(reader.number("SONGGEN_DOWNLOAD_RETRIES", Settings.retries, 1)),
        "retry_base_seconds": reader.number("SONGGEN_RETRY_BASE_SECONDS", Settings.retry_base_seconds),
        "http_timeout_seconds": reader.number(
            "SONGGEN_HTTP_TIMEOUT_SECONDS", Settings.http_timeout_seconds, 0.1
        ),
        "progress_seconds": reader.number("SONGGEN_PROGRESS_SECONDS", Settings.progress_seconds),
        "fill_python": reader.text("SONGGEN_FILL_PYTHON", Settings.fill_python),
        "fill_streams": _streams(reader),
    }


def _streams(reader: EnvReader) -> int:
    streams = reader.number("SONGGEN_FILL_STREAMS", Settings.fill_streams, 1)
    if streams != int(streams) or streams > MAX_FILL_STREAMS:
        reader.problem(
            f"SONGGEN_FILL_STREAMS={streams:g} must be a whole number from 1 to {MAX_FILL_STREAMS}"
        )
        return Settings.fill_streams
    return int(streams)


def _studio(reader: EnvReader) -> dict[str, Any]:
    return {
        "port": reader.port("PORT", Settings.port),
        "host": reader.text("SONGGEN_HOST", Settings.host),
        "run_as": reader.env.get("SONGGEN_RUN_AS", Settings.run_as).strip(),
        "idle_stop_seconds": reader.number("SONGGEN_IDLE_STOP_MINUTES", Settings.idle_stop_seconds / 60) * 60,
        "idle_poll_seconds": reader.number("SONGGEN_IDLE_POLL_SECONDS", Settings.idle_poll_seconds, 0.01),
        "idle_ignore_paths": reader.items("SONGGEN_IDLE_IGNORE_PATHS", "/api/health"),
        "stop_grace_seconds": reader.number("SONGGEN_STOP_GRACE_SECONDS", Settings.stop_grace_seconds),
        "drain_seconds": reader.number("SONGGEN_DRAIN_SECONDS", Settings.drain_seconds),
    }


def _storage(reader: EnvReader, data_dir: Path) -> dict[str, Any]:
    weights_dir = reader.optional_path("SONGGEN_WEIGHTS_DIR")
    copy_models = reader.flag("SONGGEN_COPY_MODELS", Settings.copy_models)
    if copy_models and weights_dir is None:
        reader.problem("SONGGEN_COPY_MODELS=1 copies models from SONGGEN_WEIGHTS_DIR, which is not set")
    if weights_dir is not None and weights_dir.resolve() == data_dir.resolve():
        reader.problem(
            f"SONGGEN_WEIGHTS_DIR={weights_dir} must not be SONGGEN_DATA_DIR (mounts are read-only)"
        )
    return {
        "weights_dir": weights_dir,
        "copy_models": copy_models,
        "data_bucket": reader.flag("SONGGEN_DATA_BUCKET", Settings.data_bucket),
        "state_sync_seconds": reader.number("SONGGEN_STATE_SYNC_SECONDS", Settings.state_sync_seconds, 0.01),
    }


def _platform(reader: EnvReader, idle_stop_seconds: float) -> dict[str, Any]:
    platform = reader.choice("SONGGEN_PLATFORM", Settings.platform, PLATFORMS)
    fields: dict[str, Any] = {"platform": platform}
    if idle_stop_seconds <= 0:
        return fields  # nothing stops when idle, so nothing platform-specific is needed
    if platform == "spaces":
        fields["keepawake"] = _keepawake(reader, idle_stop_seconds)
    elif platform == "kubernetes":
        fields["kubernetes"] = _kubernetes(reader)
    return fields


def _keepawake(reader: EnvReader, idle_stop_seconds: float) -> KeepAwakeSettings | None:
    space_host = reader.optional_text("SPACE_HOST")
    url = reader.optional_text("SONGGEN_KEEPAWAKE_URL")
    if url is None and space_host is not None:
        url = f"https://{space_host}/"
    if url is None:
        reader.problem(
            "SONGGEN_KEEPAWAKE_URL is unset and so is SPACE_HOST (Spaces sets it): the spaces platform "
            "needs the Space's own URL to keep it awake while a song runs"
        )
        return None
    if not is_http_url(url):
        reader.problem(f"SONGGEN_KEEPAWAKE_URL={url!r} must be an http(s) URL")
    default_period = min(idle_stop_seconds * KEEPAWAKE_FRACTION, KEEPAWAKE_MAX_SECONDS)
    period = reader.number("SONGGEN_KEEPAWAKE_SECONDS", default_period, 0.01)
    if period >= idle_stop_seconds:
        reader.problem(
            f"SONGGEN_KEEPAWAKE_SECONDS={period:g} must be shorter than SONGGEN_IDLE_STOP_MINUTES "
            f"({idle_stop_seconds:g} s), the Space's sleep time"
        )
    return KeepAwakeSettings(url=url, period_seconds=period, space_host=space_host)


def _kubernetes(reader: EnvReader) -> KubernetesSettings | None:
    host = reader.optional_text("KUBERNETES_SERVICE_HOST")
    if host is None:
        reader.problem(
            "KUBERNETES_SERVICE_HOST is not set: the kubernetes platform scales its Deployment through the "
            "in-cluster API, so it must run in a pod (or set SONGGEN_IDLE_STOP_MINUTES=0)"
        )
    port = reader.port("KUBERNETES_SERVICE_PORT", 443)
    deployment = reader.optional_text("SONGGEN_K8S_DEPLOYMENT")
    if deployment is None:
        reader.problem("SONGGEN_K8S_DEPLOYMENT is not set: the name of this Studio's own Deployment")
    elif not _DNS_SUBDOMAIN.fullmatch(deployment):
        reader.problem(f"SONGGEN_K8S_DEPLOYMENT={deployment!r} is not a Kubernetes object name")
    namespace = reader.optional_text("SONGGEN_K8S_NAMESPACE")
    if namespace is not None and not _DNS_LABEL.fullmatch(namespace):
        reader.problem(f"SONGGEN_K8S_NAMESPACE={namespace!r} is not a Kubernetes namespace name")
    if host is None or deployment is None:
        return None
    return KubernetesSettings(
        api_host=host,
        api_port=port,
        deployment=deployment,
        namespace=namespace,
        service_account_dir=reader.path("SONGGEN_K8S_SERVICEACCOUNT_DIR", SERVICE_ACCOUNT_DIR),
        retry_seconds=reader.number("SONGGEN_K8S_RETRY_SECONDS", 10.0, 0.01),
    )


def parse_models(raw: str, errors: list[str]) -> tuple[str, ...]:
    wanted: list[str] = []
    names = {short: model_id for model_id, (_, short) in MODELS.items()}
    for token in raw.replace(" ", ",").split(","):
        item = token.strip().lower()
        if not item or item == "none":
            continue
        model_id = names.get(item) or names.get(item.replace("_", "-"))
        if model_id is None and item in MODELS:
            model_id = item
        if model_id is None:
            valid = ", ".join(short for _, short in MODELS.values())
            errors.append(f"SONGGEN_MODELS: unknown model {token.strip()!r} (known: {valid}, or none)")
        elif model_id not in wanted:
            wanted.append(model_id)
    return tuple(wanted)
