"""Fixtures for the image tests: the boot package, a fake Hub, a stand-in Studio, env builders."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from tests.docker.fake_hub import FakeHub

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "docker"
BOOT_PACKAGE = "songgen_boot"
BOOT_DIR = DOCKER_DIR / BOOT_PACKAGE
FAKE_STUDIO = Path(__file__).resolve().parent / "fake_studio.py"

RUNTIME_REPO = "lglg666/SongGeneration-Runtime"
BASE_REPO = "lglg666/SongGeneration-base"


def boot_command(python: str = sys.executable) -> list[str]:
    """The image's ENTRYPOINT, with this machine's interpreter: python -m songgen_boot."""
    return [python, "-m", BOOT_PACKAGE]


def boot_process_env(env: Mapping[str, str]) -> dict[str, str]:
    """env with docker/ on PYTHONPATH, as the image puts the directory holding the package there."""
    paths = [str(DOCKER_DIR), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}


class Boot:
    """The modules of docker/songgen_boot, imported under the package name the image runs them by."""

    def __init__(self) -> None:
        sys.path.insert(0, str(DOCKER_DIR))
        try:
            self.console = import_module(f"{BOOT_PACKAGE}.console")
            self.errors = import_module(f"{BOOT_PACKAGE}.errors")
            self.config = import_module(f"{BOOT_PACKAGE}.config")
            self.hub = import_module(f"{BOOT_PACKAGE}.hub")
            self.progress = import_module(f"{BOOT_PACKAGE}.progress")
            self.fill = import_module(f"{BOOT_PACKAGE}.fill")
            self.layout = import_module(f"{BOOT_PACKAGE}.layout")
            self.idle_stop = import_module(f"{BOOT_PACKAGE}.idle_stop")
            self.main = import_module(f"{BOOT_PACKAGE}.__main__")
        finally:
            sys.path.remove(str(DOCKER_DIR))


@pytest.fixture(scope="session")
def boot() -> Boot:
    """docker/songgen_boot imported in-process (the image runs it as `python -m songgen_boot`)."""
    return Boot()


def repo_content(seed: int = 7) -> dict[str, dict[str, bytes]]:
    rng = random.Random(seed)
    return {
        RUNTIME_REPO: {
            "ckpt/encode-s12k.pt": rng.randbytes(3 * 1024 * 1024 + 123),
            "ckpt/vae/config.json": b'{"sample_rate": 48000}\n',
            "third_party/demucs/ckpt/htdemucs.pth": rng.randbytes(200_000),
            "third_party/demucs/models/apply.py": b"# upstream apply\nDEPTH = 16\n",
            "README.md": b"runtime bundle\n",
        },
        BASE_REPO: {
            "model.pt": rng.randbytes(1024 * 1024 + 7),
            "config.yaml": b"max_dur: 150\n",
        },
    }


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(repo_content()) as server:
        yield server


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    (app / "codeclm" / "tokenizer" / "Flow1dVAE").mkdir(parents=True)
    (app / "web" / "static").mkdir(parents=True)
    shutil.copy(FAKE_STUDIO, app / "main.py")
    return app


@pytest.fixture
def base_env(tmp_path: Path, app_dir: Path) -> dict[str, str]:
    """Environment for an entrypoint run confined to tmp_path, with fast timings."""
    return {
        "SONGGEN_DATA_DIR": str(tmp_path / "data"),
        "SONGGEN_APP_DIR": str(app_dir),
        "SONGGEN_OVERLAY_DIR": str(tmp_path / "overlay"),
        "SONGGEN_RUN_AS": "",
        "SONGGEN_HOST": "127.0.0.1",
        "SONGGEN_MODELS": "base",
        "SONGGEN_RETRY_BASE_SECONDS": "0.01",
        "SONGGEN_DOWNLOAD_RETRIES": "4",
        "SONGGEN_HTTP_TIMEOUT_SECONDS": "5",
        "SONGGEN_PROGRESS_SECONDS": "0",
        "SONGGEN_STOP_GRACE_SECONDS": "3",
        "SONGGEN_PYTHON": sys.executable,
    }


@pytest.fixture
def run_prepare(boot: Boot) -> Iterator[Callable[[dict[str, str]], int]]:
    """Run the entrypoint in-process with --prepare-only; restores the signal handlers it installs."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}

    def run(env: dict[str, str]) -> int:
        return int(boot.main.main(["--prepare-only"], env))

    yield run
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_state(app_dir: Path, **state: Any) -> None:
    tmp = app_dir / "state.json.tmp"
    tmp.write_text(json.dumps(state), encoding="utf-8")
    tmp.replace(app_dir / "state.json")
