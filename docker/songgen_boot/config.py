"""The settings, read from the environment (see the package docstring), and the known models."""

from __future__ import annotations

import dataclasses
import re
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from .console import GB
from .errors import ConfigError

# model id (the Studio's name and directory) -> (Hugging Face repo, short name)
MODELS: dict[str, tuple[str, str]] = {
    "songgeneration_base": ("lglg666/SongGeneration-base", "base"),
    "songgeneration_base_new": ("lglg666/SongGeneration-base-new", "base-new"),
    "songgeneration_base_full": ("lglg666/SongGeneration-base-full", "base-full"),
    "songgeneration_large": ("lglg666/SongGeneration-large", "large"),
}


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
    host: str = "0.0.0.0"  # noqa: S104 - the Studio must be reachable by Fly's proxy
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

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        errors: list[str] = []
        defaults = cls()

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: float, minimum: float = 0.0) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                errors.append(f"{name}={raw!r} is not a number")
                return default
            if value < minimum:
                errors.append(f"{name}={raw!r} must be >= {minimum:g}")
                return default
            return value

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name, "").strip().lower()
            if not raw:
                return default
            if raw in {"1", "true", "yes", "on"}:
                return True
            if raw in {"0", "false", "no", "off"}:
                return False
            errors.append(f"{name}={raw!r} must be 1 or 0")
            return default

        models = parse_models(env.get("SONGGEN_MODELS", "base"), errors)

        port_raw = text("PORT", str(defaults.port))
        port = defaults.port
        if not port_raw.isdigit() or not 0 < int(port_raw) < 65536:
            errors.append(f"PORT={port_raw!r} must be a TCP port (1-65535)")
        else:
            port = int(port_raw)

        endpoint = text("HF_ENDPOINT", defaults.hf_endpoint).rstrip("/")
        if urllib.parse.urlsplit(endpoint).scheme not in {"http", "https"}:
            errors.append(f"HF_ENDPOINT={endpoint!r} must be an http(s) URL")

        verify = text("SONGGEN_VERIFY", defaults.verify).lower()
        if verify not in {"size", "full"}:
            errors.append(f"SONGGEN_VERIFY={verify!r} must be 'size' or 'full'")

        runtime_repo = text("SONGGEN_RUNTIME_REPO", defaults.runtime_repo)
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", runtime_repo):
            errors.append(f"SONGGEN_RUNTIME_REPO={runtime_repo!r} must look like owner/name")

        assume_raw = env.get("SONGGEN_ASSUME_FREE_BYTES", "").strip()
        assume_free: int | None = None
        if assume_raw:
            if assume_raw.isdigit():
                assume_free = int(assume_raw)
            else:
                errors.append(f"SONGGEN_ASSUME_FREE_BYTES={assume_raw!r} must be a whole number of bytes")

        ignore_paths = tuple(
            p.strip() for p in env.get("SONGGEN_IDLE_IGNORE_PATHS", "/api/health").split(",") if p.strip()
        )
        token = env.get("HF_TOKEN", "").strip() or env.get("HUGGING_FACE_HUB_TOKEN", "").strip() or None

        settings = cls(
            data_dir=Path(text("SONGGEN_DATA_DIR", str(defaults.data_dir))),
            app_dir=Path(text("SONGGEN_APP_DIR", str(defaults.app_dir))),
            overlay_dir=Path(text("SONGGEN_OVERLAY_DIR", str(defaults.overlay_dir))),
            models=models,
            runtime_repo=runtime_repo,
            revision=text("SONGGEN_HF_REVISION", defaults.revision),
            idle_stop_seconds=number("SONGGEN_IDLE_STOP_MINUTES", defaults.idle_stop_seconds / 60) * 60,
            idle_poll_seconds=number("SONGGEN_IDLE_POLL_SECONDS", defaults.idle_poll_seconds, 0.01),
            idle_ignore_paths=ignore_paths,
            port=port,
            host=text("SONGGEN_HOST", defaults.host),
            hf_endpoint=endpoint,
            hf_token=token,
            download=flag("SONGGEN_DOWNLOAD", defaults.download),
            verify=verify,
            free_space_margin_bytes=int(
                number("SONGGEN_FREE_SPACE_MARGIN_GB", defaults.free_space_margin_bytes / GB) * GB
            ),
            assume_free_bytes=assume_free,
            stop_grace_seconds=number("SONGGEN_STOP_GRACE_SECONDS", defaults.stop_grace_seconds),
            run_as=env.get("SONGGEN_RUN_AS", defaults.run_as).strip(),
            python=text("SONGGEN_PYTHON", defaults.python),
            retries=int(number("SONGGEN_DOWNLOAD_RETRIES", defaults.retries, 1)),
            retry_base_seconds=number("SONGGEN_RETRY_BASE_SECONDS", defaults.retry_base_seconds),
            http_timeout_seconds=number("SONGGEN_HTTP_TIMEOUT_SECONDS", defaults.http_timeout_seconds, 0.1),
            progress_seconds=number("SONGGEN_PROGRESS_SECONDS", defaults.progress_seconds),
        )
        if errors:
            raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
        return settings

    def describe(self) -> str:
        idle = f"{self.idle_stop_seconds / 60:g} min" if self.idle_stop_seconds > 0 else "off"
        return (
            f"data={self.data_dir} app={self.app_dir} models={','.join(self.models) or 'none'} "
            f"port={self.port} idle-stop={idle} hf={self.hf_endpoint} revision={self.revision} "
            f"token={'set' if self.hf_token else 'unset'}"
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
