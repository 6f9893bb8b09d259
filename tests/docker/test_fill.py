"""The entrypoint's volume fill against a fake Hugging Face Hub: cold, warm, resumed, corrupt, full."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.docker.conftest import BASE_REPO, RUNTIME_REPO, Boot
from tests.docker.fake_hub import FakeHub

Prepare = Callable[[dict[str, str]], int]


def hub_env(base_env: dict[str, str], hub: FakeHub, **extra: str) -> dict[str, str]:
    return {**base_env, "HF_ENDPOINT": hub.endpoint, **extra}


def data_dir(env: dict[str, str]) -> Path:
    return Path(env["SONGGEN_DATA_DIR"])


def assert_volume_matches(hub: FakeHub, env: dict[str, str]) -> None:
    data = data_dir(env)
    for key, entry in hub.files.items():
        repo = key.split(":", 1)[0]
        root = data / "runtime" if repo == RUNTIME_REPO else data / "models" / "songgeneration_base"
        assert (root / entry.path).read_bytes() == entry.data, key
    assert not list(data.rglob("*.part")), "no partial files are left behind"


def test_cold_boot_downloads_each_file_once_and_links_the_volume(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    env = hub_env(base_env, hub)
    assert run_prepare(env) == 0

    assert_volume_matches(hub, env)
    for key in hub.files:
        assert len(hub.downloads(key)) == 1, f"{key} fetched once"
    assert hub.bytes_sent() == sum(len(f.data) for f in hub.files.values())

    app, data = Path(env["SONGGEN_APP_DIR"]), data_dir(env)
    assert (app / "ckpt").resolve() == (data / "runtime" / "ckpt").resolve()
    assert (app / "third_party").resolve() == (data / "runtime" / "third_party").resolve()
    assert (app / "songgeneration_base" / "model.pt").read_bytes() == hub.files[f"{BASE_REPO}:model.pt"].data
    for name in ("output", "uploads", "queue.json", "verified_models.json", "songgeneration_large"):
        assert (app / name).is_symlink(), name
        assert os.readlink(app / name).startswith(str(data))
    assert json.loads((data / "queue.json").read_text()) == []
    verified = json.loads((data / "verified_models.json").read_text())
    assert verified["songgeneration_base"]["model_pt_size"] == len(hub.files[f"{BASE_REPO}:model.pt"].data)

    manifest = json.loads((data / ".songgen" / "manifests" / "runtime.json").read_text())
    assert manifest["complete"] is True
    assert manifest["commit"] == FakeHub.commit(RUNTIME_REPO)
    assert (
        manifest["files"]["ckpt/encode-s12k.pt"]["sha256"]
        == hub.files[f"{RUNTIME_REPO}:ckpt/encode-s12k.pt"].sha256
    )

    out = capsys.readouterr().out
    assert "%" in out, "progress lines with percent"
    assert "/s" in out, "progress lines with a rate"


def test_warm_boot_touches_no_network(hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare) -> None:
    env = hub_env(base_env, hub)
    assert run_prepare(env) == 0
    hub.reset_log()

    assert run_prepare(env) == 0
    assert hub.requests == []
    assert_volume_matches(hub, env)


def test_interrupted_download_resumes_with_range(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    key = f"{RUNTIME_REPO}:ckpt/encode-s12k.pt"
    size = len(hub.files[key].data)
    hub.cut_once.add(key)

    assert run_prepare(hub_env(base_env, hub)) == 0

    transfers = hub.downloads(key)
    assert len(transfers) == 2
    assert transfers[0].range is None
    assert transfers[0].sent < size
    assert transfers[1].range is not None
    resumed_at = int(transfers[1].range.removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= transfers[0].sent
    assert transfers[1].sent == size - resumed_at
    assert_volume_matches(hub, hub_env(base_env, hub))


def test_partial_file_from_an_earlier_boot_is_resumed(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    key = f"{RUNTIME_REPO}:ckpt/encode-s12k.pt"
    hub.cut_once.add(key)
    env = hub_env(base_env, hub, SONGGEN_DOWNLOAD_RETRIES="1")
    assert run_prepare(env) == 1, "one attempt only: the boot fails after the cut"
    part = data_dir(env) / "runtime" / "ckpt" / "encode-s12k.pt.part"
    kept = part.stat().st_size
    assert kept > 0
    hub.reset_log()

    assert run_prepare(hub_env(base_env, hub)) == 0
    (transfer,) = hub.downloads(key)
    assert transfer.range == f"bytes={kept}-"
    assert_volume_matches(hub, env)


def test_corrupt_download_is_rejected_and_fetched_again(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    key = f"{BASE_REPO}:model.pt"
    hub.corrupt_once.add(key)
    assert run_prepare(hub_env(base_env, hub)) == 0
    assert len(hub.downloads(key)) == 2
    assert "sha256 mismatch" in capsys.readouterr().out
    assert_volume_matches(hub, hub_env(base_env, hub))


def test_corrupt_file_on_the_volume_is_detected_and_fetched_again(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    assert run_prepare(env) == 0
    weights = data_dir(env) / "models" / "songgeneration_base" / "model.pt"
    config = data_dir(env) / "runtime" / "ckpt" / "vae" / "config.json"
    raw = bytearray(weights.read_bytes())
    raw[100] ^= 0xFF  # same size, different content: only a full check can see it
    weights.write_bytes(bytes(raw))
    config.write_bytes(config.read_bytes()[:-3])  # truncated: the size check sees it
    hub.reset_log()

    assert run_prepare(env) == 0, "size check: only the truncated file is noticed"
    assert [r.file for r in hub.downloads()] == [f"{RUNTIME_REPO}:ckpt/vae/config.json"]
    hub.reset_log()

    assert run_prepare({**env, "SONGGEN_VERIFY": "full"}) == 0
    assert [r.file for r in hub.downloads()] == [f"{BASE_REPO}:model.pt"]
    assert_volume_matches(hub, env)


def test_files_already_on_the_volume_are_verified_not_refetched(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    good = hub.files[f"{BASE_REPO}:model.pt"]
    bad = hub.files[f"{BASE_REPO}:config.yaml"]
    model_dir = data_dir(env) / "models" / "songgeneration_base"
    model_dir.mkdir(parents=True)
    (model_dir / "model.pt").write_bytes(good.data)  # e.g. downloaded earlier through the Studio's UI
    (model_dir / "config.yaml").write_bytes(b"x" * len(bad.data))  # right size, wrong content

    assert run_prepare(env) == 0
    assert hub.downloads(good.key) == []
    assert len(hub.downloads(bad.key)) == 1
    assert_volume_matches(hub, env)


def test_too_little_space_fails_before_downloading(
    boot: Boot,
    hub: FakeHub,
    base_env: dict[str, str],
    run_prepare: Prepare,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = hub_env(base_env, hub, SONGGEN_ASSUME_FREE_BYTES="1000000", SONGGEN_FREE_SPACE_MARGIN_GB="0")
    assert run_prepare(env) == 3
    out = capsys.readouterr().out
    assert "not enough space" in out
    total = sum(len(f.data) for f in hub.files.values())
    assert f"need {boot.console.human(total)}" in out
    assert "only 1.00 MB is free" in out
    assert "Raise the stack's volume size" in out
    assert hub.downloads() == [], "nothing is fetched"
    assert not any(p.is_file() for p in (data_dir(env) / "runtime").rglob("*"))


def test_space_check_uses_an_injected_probe(boot: Boot, hub: FakeHub, base_env: dict[str, str]) -> None:
    settings = boot.config.Settings.from_env(hub_env(base_env, hub))
    boot.layout.lay_out(settings)
    probe_calls: list[Path] = []

    def tiny_volume(path: Path) -> tuple[int, int]:
        probe_calls.append(path)
        return 10, 10

    with pytest.raises(boot.errors.InsufficientSpaceError):
        boot.fill.Filler(settings, free_bytes=tiny_volume).run()
    assert probe_calls == [settings.data_dir]
    assert hub.downloads() == []


def test_token_goes_to_the_hub_only_and_is_never_printed(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "hf_secret_test_token_123"
    assert run_prepare(hub_env(base_env, hub, HF_TOKEN=token)) == 0
    api = [r for r in hub.requests if r.path.startswith("/api/")]
    cdn = [r for r in hub.requests if r.path.startswith("/cdn/")]
    assert api
    assert all(r.authorization == f"Bearer {token}" for r in api)
    assert cdn
    assert all(r.authorization is None for r in cdn), "no token on the redirect to another host"
    assert token not in capsys.readouterr().out


def test_transient_hub_errors_are_retried(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    hub.fail_once["/api/models/lglg666/SongGeneration-Runtime/tree"] = 503
    assert run_prepare(hub_env(base_env, hub)) == 0
    assert_volume_matches(hub, hub_env(base_env, hub))


def test_unknown_repo_fails_clearly(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    env = hub_env(base_env, hub, SONGGEN_RUNTIME_REPO="someone/missing")
    assert run_prepare(env) == 1
    assert "HTTP 404" in capsys.readouterr().out


def test_overlay_patches_the_runtime_bundle_and_keeps_the_cache_warm(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    patched = b"# patched apply\nDEPTH = 24\n"
    overlay = Path(env["SONGGEN_OVERLAY_DIR"]) / "third_party" / "demucs" / "models" / "apply.py"
    overlay.parent.mkdir(parents=True)
    overlay.write_bytes(patched)

    assert run_prepare(env) == 0
    app_copy = Path(env["SONGGEN_APP_DIR"]) / "third_party" / "demucs" / "models" / "apply.py"
    assert app_copy.read_bytes() == patched
    hub.reset_log()

    assert run_prepare(env) == 0
    assert hub.requests == [], "the patched file does not make the cache look incomplete"
    assert run_prepare({**env, "SONGGEN_VERIFY": "full"}) == 0
    assert hub.requests == []
    assert app_copy.read_bytes() == patched


def test_no_download_mode_starts_offline(
    hub: FakeHub, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    assert run_prepare(hub_env(base_env, hub, SONGGEN_DOWNLOAD="0")) == 0
    assert hub.requests == []
    assert (Path(base_env["SONGGEN_APP_DIR"]) / "output").is_symlink()


def test_layout_moves_state_the_image_had_onto_the_volume(
    boot: Boot, base_env: dict[str, str], tmp_path: Path
) -> None:
    app = Path(base_env["SONGGEN_APP_DIR"])
    (app / "output" / "abc123").mkdir(parents=True)
    (app / "output" / "abc123" / "song.flac").write_bytes(b"fLaC")
    (app / "queue.json").write_text('[{"id": "q1"}]')
    settings = boot.config.Settings.from_env({**base_env, "SONGGEN_DOWNLOAD": "0"})

    boot.layout.lay_out(settings)
    boot.layout.lay_out(settings)  # idempotent

    data = settings.data_dir
    assert (data / "output" / "abc123" / "song.flac").read_bytes() == b"fLaC"
    assert json.loads((data / "queue.json").read_text()) == [{"id": "q1"}]
    assert (app / "output").is_symlink()
    assert (app / "queue.json").is_symlink()
