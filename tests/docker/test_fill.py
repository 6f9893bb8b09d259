"""The entrypoint's volume fill against the Hub stand-in: cold, warm, resumed, corrupt, full, token, old volumes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub_emulator import HubEmulator, RequestRecord, synthetic
from tests.docker.conftest import (
    BASE_REPO,
    RUNTIME_REPO,
    Boot,
    Fill,
    boot_command,
    boot_process_env,
    repo_content,
)
from tests.docker.process import Entrypoint

Prepare = Callable[[dict[str, str]], int]
MIB = 1024 * 1024
BIG_FILE = "ckpt/encode-s12k.pt"  # 3 MB: LFS, so its bytes come from the CDN


def hub_env(base_env: dict[str, str], hub: HubEmulator, **extra: str) -> dict[str, str]:
    return {**base_env, "HF_ENDPOINT": hub.url, **extra}


def data_dir(env: dict[str, str]) -> Path:
    return Path(env["SONGGEN_DATA_DIR"])


def local_path(env: dict[str, str], repo: str, path: str) -> Path:
    root = (
        data_dir(env) / "runtime"
        if repo == RUNTIME_REPO
        else data_dir(env) / "models" / "songgeneration_base"
    )
    return root / path


def transfers(hub: HubEmulator, repo: str, path: str) -> list[RequestRecord]:
    """The requests that carried this file's bytes (its resolve URL, or its object on the CDN), in order."""
    sha = hashlib.sha256(repo_content()[repo][path]).hexdigest()
    found = []
    for record in hub.requests():
        on_cdn = record.kind == "cdn" and record.path.endswith(f"/{sha}")
        resolved = record.kind == "download" and record.path.startswith(f"/{repo}/resolve/")
        if record.bytes_sent > 0 and (on_cdn or (resolved and record.path.endswith(f"/{path}"))):
            found.append(record)
    return found


def sent(hub: HubEmulator, since: float = 0.0, until: float = float("inf")) -> int:
    """File bytes sent for the requests that came in [since, until) (unix time)."""
    return sum(r.bytes_sent for r in requests_since(hub, since, until) if r.kind in ("download", "cdn"))


def requests_since(hub: HubEmulator, since: float, until: float = float("inf")) -> list[RequestRecord]:
    return [r for r in hub.requests() if since <= r.at < until]


def repo_state(hub: HubEmulator, repo: str) -> dict[str, Any]:
    state: dict[str, Any] = hub.state()["models"][repo]
    return state


def hub_bytes(hub: HubEmulator) -> int:
    """Every file of the seeded repos, the .gitattributes the Hub adds to each included."""
    return sum(f["size"] for repo in repo_content() for f in repo_state(hub, repo)["files"].values())


def manifest(env: dict[str, str], name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        (data_dir(env) / ".songgen" / "manifests" / f"{name}.json").read_text()
    )
    return loaded


def assert_volume_matches(env: dict[str, str]) -> None:
    for repo, files in repo_content().items():
        for path, data in files.items():
            assert local_path(env, repo, path).read_bytes() == data, f"{repo}:{path}"
    assert not list(data_dir(env).rglob("*.part")), "no partial files are left behind"
    assert not list((data_dir(env) / ".songgen" / "incomplete").rglob("*")), "nothing left unfinished"


def test_cold_boot_downloads_each_file_once_and_links_the_volume(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    env = hub_env(base_env, hub)
    assert run_prepare(env) == 0

    assert_volume_matches(env)
    for repo, files in repo_content().items():
        for path, content in files.items():
            assert [r.bytes_sent for r in transfers(hub, repo, path)] == [len(content)], (
                f"{path} fetched once"
            )
    assert sent(hub) == hub_bytes(hub), "no byte fetched twice (the repos' .gitattributes included)"

    app, data = Path(env["SONGGEN_APP_DIR"]), data_dir(env)
    assert (app / "ckpt").resolve() == (data / "runtime" / "ckpt").resolve()
    assert (app / "third_party").resolve() == (data / "runtime" / "third_party").resolve()
    assert (app / "songgeneration_base" / "model.pt").read_bytes() == repo_content()[BASE_REPO]["model.pt"]
    for name in ("output", "uploads", "queue.json", "verified_models.json", "songgeneration_large"):
        assert (app / name).is_symlink(), name
        assert os.readlink(app / name).startswith(str(data))
    assert json.loads((data / "queue.json").read_text()) == []
    verified = json.loads((data / "verified_models.json").read_text())
    assert verified["songgeneration_base"]["model_pt_size"] == len(repo_content()[BASE_REPO]["model.pt"])

    runtime = manifest(env, "runtime")
    assert runtime["complete"] is True
    assert runtime["commit"] == repo_state(hub, RUNTIME_REPO)["sha"]
    expected_sha = hashlib.sha256(repo_content()[RUNTIME_REPO][BIG_FILE]).hexdigest()
    assert runtime["files"][BIG_FILE]["sha256"] == expected_sha  # type: ignore[index]

    out = capsys.readouterr().out
    assert "%" in out, "progress lines with percent"
    assert "/s" in out, "progress lines with a rate"


def test_warm_boot_touches_no_network(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    assert run_prepare(env) == 0
    hub.clear_requests()

    assert run_prepare(env) == 0
    assert hub.requests() == []
    assert_volume_matches(env)


def test_a_volume_filled_by_the_previous_entrypoint_boots_warm(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    """The layout and manifests (format 1) are the ones the hand-written client left; nothing to migrate."""
    env = hub_env(base_env, hub)
    commits = {repo: repo_state(hub, repo)["sha"] for repo in repo_content()}
    for repo, files in repo_content().items():
        entries = {}
        for path, content in files.items():
            local_path(env, repo, path).parent.mkdir(parents=True, exist_ok=True)
            local_path(env, repo, path).write_bytes(content)
            entries[path] = {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        name = "runtime" if repo == RUNTIME_REPO else "songgeneration_base"
        old = {
            "format": 1,
            "repo": repo,
            "revision": "main",
            "commit": commits[repo],
            "complete": True,
            "updated_at": "2026-11-01T10:00:00+00:00",
            "files": entries,
            "overlays": {},
        }
        written = data_dir(env) / ".songgen" / "manifests" / f"{name}.json"
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_text(json.dumps(old))

    assert run_prepare(env) == 0
    assert hub.requests() == []
    assert_volume_matches(env)


def test_a_dropped_connection_resumes_where_the_body_stopped(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    size = len(repo_content()[RUNTIME_REPO][BIG_FILE])
    sha = hashlib.sha256(repo_content()[RUNTIME_REPO][BIG_FILE]).hexdigest()
    hub.inject_fault(path=f"/__cdn/lfs/{sha}", cut_after=2_500_000)

    assert run_prepare(hub_env(base_env, hub)) == 0

    first, second = (r.bytes_sent for r in transfers(hub, RUNTIME_REPO, BIG_FILE))
    assert first == 2_500_000, "the connection dropped mid-body"
    resumed_at = size - second
    assert 0 < resumed_at <= first, "the second request continued the file, it did not start it over"
    assert resumed_at % MIB == 0, "from the last whole chunk written"
    assert_volume_matches(hub_env(base_env, hub))
    out = capsys.readouterr().out
    assert "Trying to resume download" in out, "the library says it resumes"
    assert "signature" not in out, "without the CDN link's signature"


def test_an_interrupted_fill_resumes_after_a_restart(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    size = len(repo_content()[RUNTIME_REPO][BIG_FILE])
    sha = hashlib.sha256(repo_content()[RUNTIME_REPO][BIG_FILE]).hexdigest()
    hub.inject_fault(path=f"/__cdn/lfs/{sha}", cut_after=2_500_000)  # 2 MiB reach the disk
    hub.inject_fault(path=f"/__cdn/lfs/{sha}", status=503)  # and the retry fails: the boot ends
    env = hub_env(base_env, hub, SONGGEN_DOWNLOAD_RETRIES="1")
    assert run_prepare(env) == 1
    assert "giving up after 1 attempts" in capsys.readouterr().out
    hub.clear_requests()

    assert run_prepare(hub_env(base_env, hub)) == 0
    (transfer,) = transfers(hub, RUNTIME_REPO, BIG_FILE)
    assert transfer.bytes_sent == size - 2 * MIB, "only what the first boot had not written"
    assert sent(hub) == transfer.bytes_sent, "the files the first boot finished are not fetched again"
    assert_volume_matches(env)


def test_a_partial_file_left_by_the_previous_entrypoint_is_resumed(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    data = repo_content()[RUNTIME_REPO][BIG_FILE]
    part = local_path(env, RUNTIME_REPO, BIG_FILE).with_name("encode-s12k.pt.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:1_000_000])  # what the hand-written client kept of an interrupted download

    assert run_prepare(env) == 0
    assert [r.bytes_sent for r in transfers(hub, RUNTIME_REPO, BIG_FILE)] == [len(data) - 1_000_000]
    assert_volume_matches(env)


def test_a_partial_file_that_does_not_verify_is_fetched_again_whole(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    env = hub_env(base_env, hub)
    data = repo_content()[RUNTIME_REPO][BIG_FILE]
    part = local_path(env, RUNTIME_REPO, BIG_FILE).with_name("encode-s12k.pt.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1_000_000)  # damaged: the right length, the wrong bytes

    assert run_prepare(env) == 0
    assert "sha256 mismatch after download" in capsys.readouterr().out
    assert [r.bytes_sent for r in transfers(hub, RUNTIME_REPO, BIG_FILE)] == [
        len(data) - 1_000_000,
        len(data),
    ]
    assert_volume_matches(env)


def test_corrupt_file_on_the_volume_is_detected_and_fetched_again(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    assert run_prepare(env) == 0
    weights = local_path(env, BASE_REPO, "model.pt")
    config = local_path(env, RUNTIME_REPO, "ckpt/vae/config.json")
    raw = bytearray(weights.read_bytes())
    raw[100] ^= 0xFF  # same size, different content: only a full check can see it
    weights.write_bytes(bytes(raw))
    config.write_bytes(config.read_bytes()[:-3])  # truncated: the size check sees it
    hub.clear_requests()

    assert run_prepare(env) == 0, "size check: only the truncated file is noticed"
    assert [r.path.rsplit("/", 1)[-1] for r in hub.requests() if r.kind != "api"] == ["config.json"]
    hub.clear_requests()

    assert run_prepare({**env, "SONGGEN_VERIFY": "full"}) == 0
    assert len(transfers(hub, BASE_REPO, "model.pt")) == 1
    assert sent(hub) == len(repo_content()[BASE_REPO]["model.pt"])
    assert_volume_matches(env)


def test_files_already_on_the_volume_are_verified_not_refetched(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    good = repo_content()[BASE_REPO]["model.pt"]
    bad = repo_content()[BASE_REPO]["config.yaml"]
    local_path(env, BASE_REPO, "model.pt").parent.mkdir(parents=True)
    local_path(env, BASE_REPO, "model.pt").write_bytes(
        good
    )  # e.g. downloaded earlier through the Studio's UI
    local_path(env, BASE_REPO, "config.yaml").write_bytes(b"x" * len(bad))  # right size, wrong content

    assert run_prepare(env) == 0
    assert transfers(hub, BASE_REPO, "model.pt") == []
    assert len(transfers(hub, BASE_REPO, "config.yaml")) == 1
    assert_volume_matches(env)


def test_too_little_space_fails_before_downloading(
    boot: Boot,
    hub: HubEmulator,
    base_env: dict[str, str],
    run_prepare: Prepare,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = hub_env(base_env, hub, SONGGEN_ASSUME_FREE_BYTES="1000000", SONGGEN_FREE_SPACE_MARGIN_GB="0")
    assert run_prepare(env) == 3
    out = capsys.readouterr().out
    assert "not enough space" in out
    assert f"need {boot.console.human(hub_bytes(hub))}" in out
    assert "only 1.00 MB is free" in out
    assert "Raise the stack's volume size" in out
    assert sent(hub) == 0, "nothing is fetched"
    weights = [*(data_dir(env) / "runtime").rglob("*"), *(data_dir(env) / "models").rglob("*")]
    assert not [p for p in weights if p.is_file()]
    assert not [p for p in (data_dir(env) / ".songgen" / "incomplete").rglob("*") if p.is_file()]


def test_space_check_uses_an_injected_probe(
    boot: Boot, fill_package: Fill, hub: HubEmulator, base_env: dict[str, str]
) -> None:
    settings = boot.config.Settings.from_env(hub_env(base_env, hub))
    boot.layout.lay_out(settings)
    job = boot.fill.Filler(settings).job(boot.fill.Filler(settings).targets())
    probe_calls: list[Path] = []

    def tiny_volume(path: Path) -> tuple[int, int]:
        probe_calls.append(path)
        return 10, 10

    with pytest.raises(boot.errors.InsufficientSpaceError):
        fill_package.fill.Fill(job, threading.Event(), None, free_bytes=tiny_volume).run()
    assert probe_calls == [settings.data_dir]
    assert sent(hub) == 0


def test_token_goes_to_the_hub_only_and_is_never_printed(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_user("reader")
    token = hub.new_token("reader", "read")
    assert run_prepare(hub_env(base_env, hub, HF_TOKEN=token)) == 0
    on_hub = [r for r in hub.requests() if r.kind in ("api", "download")]
    on_cdn = [r for r in hub.requests() if r.kind == "cdn"]
    assert on_hub
    assert all(r.authorized and r.host.startswith("127.0.0.1:") for r in on_hub)
    assert on_cdn
    assert all(r.host.startswith("localhost:") for r in on_cdn)
    assert not any(r.authorized for r in on_cdn), "no token on the CDN, another host"
    assert token not in capsys.readouterr().out


def test_transient_hub_errors_are_retried(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    hub.inject_fault(path=f"/api/models/{RUNTIME_REPO}/tree/.*", status=503)
    assert run_prepare(hub_env(base_env, hub)) == 0
    assert_volume_matches(hub_env(base_env, hub))


def test_an_unknown_repo_fails_clearly(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.add_user("reader")
    env = hub_env(
        base_env, hub, SONGGEN_RUNTIME_REPO="someone/missing", HF_TOKEN=hub.new_token("reader", "read")
    )
    assert run_prepare(env) == 1
    assert "HTTP 404 from someone/missing@main" in capsys.readouterr().out

    assert run_prepare({**env, "HF_TOKEN": ""}) == 1
    assert (
        "HTTP 401 from someone/missing@main (HF_TOKEN is missing or lacks access)" in capsys.readouterr().out
    )


def test_a_missing_fill_environment_is_named(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare, capsys: pytest.CaptureFixture[str]
) -> None:
    env = hub_env(base_env, hub, SONGGEN_FILL_PYTHON="/nonexistent/fill-venv/bin/python")
    assert run_prepare(env) == 1
    assert (
        "SONGGEN_FILL_PYTHON=/nonexistent/fill-venv/bin/python cannot be started" in capsys.readouterr().out
    )
    assert hub.requests() == []


def test_a_large_file_is_fetched_over_several_connections(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    size = 40 * 1000 * 1000
    hub.add_repo("lglg666/SongGeneration-large", {"model.pt": synthetic(size, seed=5)})
    hub.configure(bandwidth=20_000_000)  # per connection: one stream alone would need 2 s
    env = hub_env(base_env, hub, SONGGEN_MODELS="large")
    assert run_prepare(env) == 0

    sha = repo_state(hub, "lglg666/SongGeneration-large")["files"]["model.pt"]["sha256"]
    model = [r for r in hub.requests() if r.kind == "cdn" and r.path.endswith(sha)]
    assert len(model) >= 4, "the one large file is split over the parallel connections"
    waste = sum(r.bytes_sent for r in model) - size
    assert 0 <= waste < size // 20, "a split costs at most what was in flight, not a second download"
    written = data_dir(env) / "models" / "songgeneration_large" / "model.pt"
    assert written.stat().st_size == size
    assert manifest(env, "songgeneration_large")["complete"] is True


def test_overlay_patches_the_runtime_bundle_and_keeps_the_cache_warm(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    env = hub_env(base_env, hub)
    patched = b"# patched apply\nDEPTH = 24\n"
    overlay = Path(env["SONGGEN_OVERLAY_DIR"]) / "third_party" / "demucs" / "models" / "apply.py"
    overlay.parent.mkdir(parents=True)
    overlay.write_bytes(patched)

    assert run_prepare(env) == 0
    app_copy = Path(env["SONGGEN_APP_DIR"]) / "third_party" / "demucs" / "models" / "apply.py"
    assert app_copy.read_bytes() == patched
    hub.clear_requests()

    assert run_prepare(env) == 0
    assert hub.requests() == [], "the patched file does not make the cache look incomplete"
    assert run_prepare({**env, "SONGGEN_VERIFY": "full"}) == 0
    assert hub.requests() == []
    assert app_copy.read_bytes() == patched


def test_no_download_mode_starts_offline(
    hub: HubEmulator, base_env: dict[str, str], run_prepare: Prepare
) -> None:
    assert run_prepare(hub_env(base_env, hub, SONGGEN_DOWNLOAD="0")) == 0
    assert hub.requests() == []
    assert (Path(base_env["SONGGEN_APP_DIR"]) / "output").is_symlink()


def test_layout_moves_state_the_image_had_onto_the_volume(boot: Boot, base_env: dict[str, str]) -> None:
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


# ---- the entrypoint as a process: stopped by a signal, or killed ----

LARGE_REPO = "lglg666/SongGeneration-large"
LARGE_SIZE = 30_000_000


@pytest.fixture
def prepare_process(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Entrypoint]]:
    """`python -m songgen_boot --prepare-only` in a process group of its own, killed whole at the end."""
    started: list[Entrypoint] = []

    def start(env: dict[str, str]) -> Entrypoint:
        proc = subprocess.Popen(
            [*boot_command(), "--prepare-only"],
            env=boot_process_env({**os.environ, **env}),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(Entrypoint(proc, tmp_path, 0))
        return started[-1]

    yield start
    for entrypoint in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(entrypoint.proc.pid, signal.SIGKILL)
        entrypoint.kill()


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def slow_large_model(hub: HubEmulator, base_env: dict[str, str]) -> dict[str, str]:
    """A 30 MB model over connections capped at 2 MB/s: a fill that takes a few seconds."""
    hub.add_repo(LARGE_REPO, {"model.pt": synthetic(LARGE_SIZE, seed=3)})
    hub.configure(bandwidth=2_000_000)
    return hub_env(base_env, hub, SONGGEN_MODELS="large", SONGGEN_PROGRESS_SECONDS="0")


def test_a_stop_signal_ends_the_fill_cleanly_and_the_next_boot_resumes(
    hub: HubEmulator,
    base_env: dict[str, str],
    prepare_process: Callable[[dict[str, str]], Entrypoint],
    run_prepare: Prepare,
) -> None:
    env = slow_large_model(hub, base_env)
    entrypoint = prepare_process(env)
    entrypoint.wait_for_line("downloading songgeneration_large:model.pt")
    (fill,) = children(entrypoint.proc.pid)

    entrypoint.proc.send_signal(signal.SIGTERM)
    asked = time.monotonic()
    assert entrypoint.wait_exit(15) == 128 + signal.SIGTERM
    assert time.monotonic() - asked < 5, "the fill stops at its next chunk, not at the end of its file"
    out = entrypoint.output()
    assert "fill stopped; what it wrote is kept" in out
    assert "stopped by SIGTERM while preparing" in out
    assert not Path(f"/proc/{fill}").exists(), "the fill process ended with the entrypoint"
    before = sent(hub)
    assert 0 < before < LARGE_SIZE

    hub.configure(bandwidth=10_000_000)  # still paced: a split then wastes no more than a chunk in flight
    hub.clear_requests()
    assert run_prepare(env) == 0
    total = sum(
        f["size"] for repo in (RUNTIME_REPO, LARGE_REPO) for f in repo_state(hub, repo)["files"].values()
    )
    assert before + sent(hub) - total < env_streams(env) * MIB, "at most a chunk per connection fetched twice"
    assert manifest(env, "songgeneration_large")["complete"] is True


def test_a_killed_fill_resumes_from_its_last_checkpoint(
    hub: HubEmulator,
    base_env: dict[str, str],
    prepare_process: Callable[[dict[str, str]], Entrypoint],
    run_prepare: Prepare,
) -> None:
    env = slow_large_model(hub, base_env)
    entrypoint = prepare_process(env)
    state = data_dir(env) / ".songgen" / "incomplete" / "songgeneration_large" / "model.pt.ranges.json"

    def recorded() -> int:
        with contextlib.suppress(OSError, ValueError):
            return sum(end - start for start, end in json.loads(state.read_text())["ranges"])
        return 0

    entrypoint.wait_for("a checkpoint with 10 MB of the model", lambda: recorded() >= 10_000_000)
    os.killpg(entrypoint.proc.pid, signal.SIGKILL)  # a machine that stops without warning
    entrypoint.wait_exit(15)
    kept = recorded()

    hub.configure(bandwidth=10_000_000)  # still paced: a split then wastes no more than a chunk in flight
    second = time.time()  # the killed connections may be logged late; what counts is when a request came
    assert run_prepare(env) == 0
    sha = repo_state(hub, LARGE_REPO)["files"]["model.pt"]["sha256"]
    fetched = sum(
        r.bytes_sent for r in requests_since(hub, second) if r.kind == "cdn" and r.path.endswith(sha)
    )
    assert LARGE_SIZE - kept <= fetched < LARGE_SIZE - kept + 2 * MIB, "only the ranges it had not recorded"
    assert (data_dir(env) / "models" / "songgeneration_large" / "model.pt").stat().st_size == LARGE_SIZE
    assert not state.exists()


def env_streams(env: dict[str, str]) -> int:
    return int(env.get("SONGGEN_FILL_STREAMS", "8"))
