"""Weights from read-only mounts (SONGGEN_WEIGHTS_DIR): linked, overlaid through a link farm, optionally copied."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hub_emulator import HubEmulator
from tests.docker.conftest import (
    BASE_ID,
    BASE_REPO,
    OVERLAY_FILE,
    PATCHED_APPLY,
    RUNTIME_REPO,
    Boot,
    boot_command,
    boot_process_env,
    own,
    repo_content,
    set_read_only,
    tree_snapshot,
    write_overlay,
    write_weights,
)
from tests.docker.process import Unprivileged

Prepare = Callable[[dict[str, str]], int]


def mount_env(base_env: dict[str, str], tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **base_env,
        "SONGGEN_WEIGHTS_DIR": str(tmp_path / "weights"),
        "SONGGEN_LOCAL_DIR": str(tmp_path / "local"),
        **extra,
    }


def test_mount_mode_links_the_mounts_and_asks_the_hub_nothing(
    hub: HubEmulator, base_env: dict[str, str], tmp_path: Path, run_prepare: Prepare
) -> None:
    weights = write_weights(tmp_path / "weights")
    env = mount_env(base_env, tmp_path, HF_ENDPOINT=hub.url, SONGGEN_DOWNLOAD="1")
    assert run_prepare(env) == 0

    assert hub.requests() == [], "not one request to the Hub"
    app, data = Path(env["SONGGEN_APP_DIR"]), Path(env["SONGGEN_DATA_DIR"])
    assert os.readlink(app / "ckpt") == str(weights / "runtime" / "ckpt")
    assert os.readlink(app / "third_party") == str(weights / "runtime" / "third_party"), "no overlay: no farm"
    assert os.readlink(app / BASE_ID) == str(weights / "models" / BASE_ID)
    assert (app / BASE_ID / "model.pt").read_bytes() == repo_content()[BASE_REPO]["model.pt"]
    large = app / "songgeneration_large"
    assert os.readlink(large) == str(data / "models" / "songgeneration_large"), (
        "not mounted: writable, for the UI"
    )
    assert not (data / "runtime").exists(), "no weights on the data dir"
    assert not (data / ".songgen").exists(), "no fill manifests"
    verified = json.loads((data / "verified_models.json").read_text())
    assert verified[BASE_ID]["model_pt_size"] == len(repo_content()[BASE_REPO]["model.pt"])


def test_a_wanted_model_that_is_not_mounted_stops_the_boot_naming_what_to_mount(
    base_env: dict[str, str], tmp_path: Path, run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    write_weights(tmp_path / "weights")
    assert run_prepare(mount_env(base_env, tmp_path, SONGGEN_MODELS="base,large")) == 1
    out = capsys.readouterr().out
    assert "SONGGEN_WEIGHTS_DIR=" in out
    assert "models/songgeneration_large/model.pt" in out
    assert "SONGGEN_MODELS" in out


def test_link_farm_is_real_only_along_the_replaced_files_and_links_everything_else(
    boot: Boot, tmp_path: Path
) -> None:
    source = write_weights(tmp_path / "weights") / "runtime" / "third_party"
    (source / "demucs" / "models" / "utils.py").write_text("# upstream\n")
    patched = write_overlay(tmp_path / "overlay") / OVERLAY_FILE
    farm = tmp_path / "local" / "third_party"

    applied = boot.linkfarm.build_link_farm(
        source, farm, {"demucs/models/apply.py": patched, "missing/dir/x.py": patched}
    )
    assert list(applied) == ["demucs/models/apply.py"], "a file whose directory the bundle lacks is skipped"
    for real in (farm, farm / "demucs", farm / "demucs" / "models"):
        assert real.is_dir(), real
        assert not real.is_symlink(), real
    apply_py = farm / "demucs" / "models" / "apply.py"
    assert not apply_py.is_symlink()
    assert apply_py.read_bytes() == PATCHED_APPLY
    assert os.readlink(farm / "demucs" / "models" / "utils.py") == str(
        source / "demucs" / "models" / "utils.py"
    )
    assert os.readlink(farm / "demucs" / "ckpt") == str(source / "demucs" / "ckpt")
    assert not (farm / "missing").exists()

    boot.linkfarm.build_link_farm(source, farm, {"demucs/models/apply.py": patched})  # the next boot
    assert apply_py.read_bytes() == PATCHED_APPLY
    assert sorted(p.name for p in farm.parent.iterdir()) == ["third_party"], "no building or old farm left"


def test_overlay_applies_through_a_link_farm_without_writing_to_the_read_only_mount(
    scratch: Path, unprivileged: Unprivileged, app_dir: Path, base_env: dict[str, str]
) -> None:
    weights = write_weights(scratch / "weights")
    overlay = write_overlay(scratch / "overlay")
    app = scratch / "app"
    shutil.copytree(app_dir, app)
    for writable in (app, scratch / "data", scratch / "local"):
        writable.mkdir(exist_ok=True)
        own(writable, unprivileged)
    set_read_only(weights, True)
    before = tree_snapshot(weights)
    env = {
        **os.environ,
        **base_env,
        "HOME": str(scratch),
        "SONGGEN_APP_DIR": str(app),
        "SONGGEN_DATA_DIR": str(scratch / "data"),
        "SONGGEN_LOCAL_DIR": str(scratch / "local"),
        "SONGGEN_OVERLAY_DIR": str(overlay),
        "SONGGEN_WEIGHTS_DIR": str(weights),
        "SONGGEN_PYTHON": unprivileged.python,
    }
    for boot_number in (1, 2):
        result = subprocess.run(
            [*boot_command(unprivileged.python), "--prepare-only"],
            env=boot_process_env(env),
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            **unprivileged.popen_args(),
        )
        assert result.returncode == 0, f"boot {boot_number}: {result.stdout}{result.stderr}"

    assert tree_snapshot(weights) == before, "the mount is exactly as it was"
    assert (scratch / "local" / "runtime").stat().st_uid == unprivileged.uid != 0, "built without root"
    assert (app / OVERLAY_FILE).read_bytes() == PATCHED_APPLY
    assert (app / "third_party").resolve() == (scratch / "local" / "runtime" / "third_party").resolve()
    farm_dir = scratch / "local" / "runtime" / "third_party" / "demucs"
    assert os.readlink(farm_dir / "ckpt") == str(weights / "runtime" / "third_party" / "demucs" / "ckpt")
    assert (app / "third_party" / "demucs" / "ckpt" / "htdemucs.pth").read_bytes() == repo_content()[
        RUNTIME_REPO
    ]["third_party/demucs/ckpt/htdemucs.pth"]
    assert "applied the Studio's patched copy (link farm" in result.stdout


def test_copy_mode_copies_the_chosen_models_verifies_them_and_links_the_copy(
    base_env: dict[str, str], tmp_path: Path, run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = write_weights(tmp_path / "weights")
    env = mount_env(base_env, tmp_path, SONGGEN_COPY_MODELS="1")
    assert run_prepare(env) == 0

    app, local = Path(env["SONGGEN_APP_DIR"]), tmp_path / "local"
    copy = local / "models" / BASE_ID
    assert os.readlink(app / BASE_ID) == str(copy)
    for name, data in repo_content()[BASE_REPO].items():
        assert (copy / name).read_bytes() == data
    assert not list(copy.rglob("*.part"))
    manifest = json.loads((local / "manifests" / f"{BASE_ID}.json").read_text())
    assert manifest["complete"] is True
    model = repo_content()[BASE_REPO]["model.pt"]
    assert manifest["files"]["model.pt"]["sha256"] == hashlib.sha256(model).hexdigest()
    verified = json.loads((Path(env["SONGGEN_DATA_DIR"]) / "verified_models.json").read_text())
    assert verified[BASE_ID]["model_pt_size"] == len(model)
    assert os.readlink(app / "ckpt") == str(weights / "runtime" / "ckpt"), "the runtime bundle is not copied"
    out = capsys.readouterr().out
    assert f"copying {BASE_ID}:model.pt" in out, "progress lines"
    assert "%" in out
    inode = (copy / "model.pt").stat().st_ino

    assert run_prepare(env) == 0
    assert "nothing to copy" in capsys.readouterr().out
    assert (copy / "model.pt").stat().st_ino == inode, "a complete copy is kept on the next boot"


def test_a_copy_that_does_not_read_back_as_its_source_is_refused(
    boot: Boot,
    base_env: dict[str, str],
    tmp_path: Path,
    run_prepare: Prepare,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_weights(tmp_path / "weights")
    honest_copy = boot.copier.stream_copy

    def flipping_copy(source: Path, part: Path, *args: object) -> tuple[int, str]:
        copied, digest = honest_copy(source, part, *args)
        raw = bytearray(part.read_bytes())
        raw[len(raw) // 2] ^= 0xFF  # the disk gave back something else than was written
        part.write_bytes(bytes(raw))
        return copied, digest

    monkeypatch.setattr(boot.copier, "stream_copy", flipping_copy)
    env = mount_env(base_env, tmp_path, SONGGEN_COPY_MODELS="1", SONGGEN_DOWNLOAD_RETRIES="2")
    assert run_prepare(env) == 1
    out = capsys.readouterr().out
    assert "reads back as sha256" in out
    assert "copying it again" in out, "retried once"
    copy = tmp_path / "local" / "models" / BASE_ID
    assert not [p for p in copy.rglob("*") if p.is_file()], "nothing unverified is kept"
