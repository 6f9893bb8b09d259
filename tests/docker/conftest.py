"""Fixtures for the image tests: the boot and fill packages, the Hub stand-in, a stand-in Studio, env
builders, mounted weights, entrypoint processes (as root or not) and a certificate for a stand-in cluster."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from hub_emulator import HubEmulator
from tests.docker.fake_kube_api import Certificates, make_certificates
from tests.docker.process import Entrypoint, Unprivileged

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "docker"
BOOT_PACKAGE = "songgen_boot"
BOOT_DIR = DOCKER_DIR / BOOT_PACKAGE
FILL_PACKAGE = "songgen_fill"
FILL_DIR = DOCKER_DIR / FILL_PACKAGE
FAKE_STUDIO = Path(__file__).resolve().parent / "fake_studio.py"

RUNTIME_REPO = "lglg666/SongGeneration-Runtime"
BASE_REPO = "lglg666/SongGeneration-base"
BASE_ID = "songgeneration_base"
OVERLAY_FILE = "third_party/demucs/models/apply.py"
PATCHED_APPLY = b"# the Studio's patched apply\nDEPTH = 24\n"
SPACES_UID = 1000  # Spaces runs every image as this uid


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
            self.checksums = import_module(f"{BOOT_PACKAGE}.checksums")
            self.filljob = import_module(f"{BOOT_PACKAGE}.filljob")
            self.progress = import_module(f"{BOOT_PACKAGE}.progress")
            self.fill = import_module(f"{BOOT_PACKAGE}.fill")
            self.layout = import_module(f"{BOOT_PACKAGE}.layout")
            self.idle_stop = import_module(f"{BOOT_PACKAGE}.idle_stop")
            self.statefiles = import_module(f"{BOOT_PACKAGE}.statefiles")
            self.linkfarm = import_module(f"{BOOT_PACKAGE}.linkfarm")
            self.copier = import_module(f"{BOOT_PACKAGE}.copier")
            self.keepawake = import_module(f"{BOOT_PACKAGE}.keepawake")
            self.kube = import_module(f"{BOOT_PACKAGE}.kube")
            self.idle_policy = import_module(f"{BOOT_PACKAGE}.idle_policy")
            self.main = import_module(f"{BOOT_PACKAGE}.__main__")
        finally:
            sys.path.remove(str(DOCKER_DIR))


@pytest.fixture(scope="session")
def boot() -> Boot:
    """docker/songgen_boot imported in-process (the image runs it as `python -m songgen_boot`)."""
    return Boot()


class Fill:
    """The modules of docker/songgen_fill (the image runs them on the fill's own environment)."""

    def __init__(self) -> None:
        sys.path.insert(0, str(DOCKER_DIR))
        try:
            self.remote = import_module(f"{FILL_PACKAGE}.remote")
            self.partial = import_module(f"{FILL_PACKAGE}.partial")
            self.fill = import_module(f"{FILL_PACKAGE}.fill")
        finally:
            sys.path.remove(str(DOCKER_DIR))


@pytest.fixture(scope="session")
def fill_package(boot: Boot) -> Fill:
    """docker/songgen_fill imported in-process (on this machine's huggingface_hub, the version the image locks)."""
    return Fill()


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


def seed(hub: HubEmulator, content: dict[str, dict[str, bytes]]) -> None:
    """The repos as the Hub would hold them (binary files through LFS, as the Hub decides)."""
    hub.add_user(RUNTIME_REPO.split("/")[0])
    for repo, files in content.items():
        hub.add_repo(repo, files)


@pytest.fixture(scope="session")
def _hub_server() -> Iterator[HubEmulator]:
    with HubEmulator() as server:
        yield server


@pytest.fixture
def hub(_hub_server: HubEmulator) -> HubEmulator:
    """The Hub stand-in holding repo_content(), no latency, no cap, no faults, an empty request log."""
    _hub_server.reset()
    _hub_server.configure(latency=0.0, bandwidth=None)
    seed(_hub_server, repo_content())
    return _hub_server


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
        # Generous: under a loaded machine the stand-in Studio may take seconds to act on SIGTERM.
        "SONGGEN_STOP_GRACE_SECONDS": "8",
        "SONGGEN_PYTHON": sys.executable,
        # This venv has the huggingface_hub the image's fill locks; SONGGEN_TEST_FILL_PYTHON runs the fill
        # on another interpreter (e.g. a Python 3.10 venv of docker/requirements-fill.lock.txt, as in the image).
        "SONGGEN_FILL_PYTHON": os.environ.get("SONGGEN_TEST_FILL_PYTHON") or sys.executable,
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


# ---- mounted weights (SONGGEN_WEIGHTS_DIR), laid out as the Spaces repo mounts are ----


def write_weights(root: Path) -> Path:
    """runtime/ and models/songgeneration_base/ holding the fake Hub's repos."""
    content = repo_content()
    for path, data in content[RUNTIME_REPO].items():
        target = root / "runtime" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for path, data in content[BASE_REPO].items():
        target = root / "models" / BASE_ID / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def write_overlay(root: Path) -> Path:
    target = root / OVERLAY_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PATCHED_APPLY)
    return root


def set_read_only(root: Path, read_only: bool) -> None:
    """chmod a tree read-only (a-w) or back; only root can still write to it then."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222 if read_only else mode | stat.S_IWUSR)


def tree_snapshot(root: Path) -> dict[str, tuple[int, int, int, bytes | None]]:
    """Every entry under root: mode, size, mtime and, for files, the content."""
    found = {}
    for path in [root, *sorted(root.rglob("*"))]:
        info = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        found[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns, content)
    return found


# ---- entrypoint processes ----


def process_env(base_env: Mapping[str, str], **overrides: str) -> dict[str, str]:
    """The environment of an entrypoint process: fast polls, no downloads, no idle stop, a free port."""
    return {
        **os.environ,
        **base_env,
        "SONGGEN_DOWNLOAD": "0",
        "SONGGEN_IDLE_POLL_SECONDS": "0.1",
        "SONGGEN_IDLE_STOP_MINUTES": "0",
        "PORT": str(free_port()),
        **overrides,
    }


Launch = Callable[..., Entrypoint]


@pytest.fixture
def launch() -> Iterator[Launch]:
    """Start `python -m songgen_boot` with an environment; every process started is killed at the end."""
    started: list[Entrypoint] = []

    def _launch(env: Mapping[str, str], app_dir: Path, user: Unprivileged | None = None) -> Entrypoint:
        proc = subprocess.Popen(
            boot_command(user.python if user else sys.executable),
            env=boot_process_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **(user.popen_args() if user else {}),
        )
        entrypoint = Entrypoint(proc, app_dir, int(env["PORT"]))
        started.append(entrypoint)
        return entrypoint

    yield _launch
    for entrypoint in started:
        entrypoint.kill()


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory another user can reach (pytest's own tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="songgen-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        set_read_only(root, False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def unprivileged() -> Unprivileged:
    """Who runs the entrypoint when root must not: uid 1000 if the tests run as root, else the tests' user."""
    if os.geteuid() != 0:
        return Unprivileged(os.getuid(), os.getgid(), sys.executable)
    candidates = [sys.executable, "/usr/bin/python3", shutil.which("python3") or ""]
    for python in filter(None, candidates):
        user = Unprivileged(SPACES_UID, SPACES_UID, python)
        try:
            probe = subprocess.run(
                [python, "-c", "import json, ssl, http.server"],
                capture_output=True,
                timeout=30,
                cwd="/",
                **user.popen_args(),
            )
        except OSError:
            continue
        if probe.returncode == 0 and sys.version_info[:2] >= (3, 10):
            return user
    pytest.skip(f"no Python interpreter that uid {SPACES_UID} may run")


def own(root: Path, user: Unprivileged) -> None:
    """Give a tree to user (as the image gives the app dir and the local dir to uid 1000)."""
    if os.geteuid() != 0:
        return
    for path in [root, *root.rglob("*")]:
        os.lchown(path, user.uid, user.gid)


@pytest.fixture(scope="session")
def kube_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command makes the stand-in cluster's certificates")
    return make_certificates(tmp_path_factory.mktemp("cluster-ca"))
