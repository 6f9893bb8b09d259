"""A bucket as the data dir (SONGGEN_DATA_BUCKET=1): no symlinks on it, state files reach it whole."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from tests.docker.conftest import Boot, Launch, process_env
from tests.docker.process import post_json

STATE_FILES = ("queue.json", "verified_models.json", "timing_history.json")


def bucket_env(base_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **base_env,
        "SONGGEN_DATA_DIR": str(tmp_path / "bucket"),
        "SONGGEN_DATA_BUCKET": "1",
        "SONGGEN_LOCAL_DIR": str(tmp_path / "local"),
        "SONGGEN_CACHE_DIR": str(tmp_path / "local" / "cache"),
    }


def symlinks_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_symlink()]


def test_state_mirror_writes_only_whole_json_and_replaces_the_file_instead_of_rewriting_it(
    boot: Boot, base_env: dict[str, str], tmp_path: Path
) -> None:
    settings = boot.config.Settings.from_env(bucket_env(base_env, tmp_path))
    settings.state_dir.mkdir(parents=True)
    settings.data_dir.mkdir(parents=True)
    mirror = boot.statefiles.StateMirror(settings)
    local, remote = settings.state_dir / "queue.json", settings.data_dir / "queue.json"

    local.write_text('[{"id": "q1"}, {"id"')  # the Studio caught mid-rewrite
    assert mirror.sync() == []
    assert not remote.exists(), "a torn file is not mirrored"

    local.write_text('[{"id": "q1"}]')
    assert mirror.sync() == ["queue.json"]
    assert remote.read_text() == '[{"id": "q1"}]'
    assert not remote.is_symlink()
    first_inode = remote.stat().st_ino
    assert mirror.sync() == [], "unchanged: nothing written"

    local.write_text('[{"id": "q1"}, {"id": "q2"}]')
    assert mirror.sync() == ["queue.json"]
    assert remote.stat().st_ino != first_inode, "a new file renamed over the old one, never written in place"
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["queue.json"], "no temp file left"


def test_bucket_mode_keeps_state_on_local_disk_and_mirrors_it_whole_while_running_and_at_stop(
    launch: Launch, base_env: dict[str, str], tmp_path: Path, app_dir: Path
) -> None:
    env = bucket_env(base_env, tmp_path)
    bucket = Path(env["SONGGEN_DATA_DIR"])
    bucket.mkdir()
    (bucket / "queue.json").write_text('[{"id": "from-the-last-boot"}]')

    run = launch(process_env(env, SONGGEN_STATE_SYNC_SECONDS="0.05"), app_dir)
    run.wait_healthy()
    for name in STATE_FILES:
        assert os.readlink(app_dir / name) == str(tmp_path / "local" / "state" / name)
    assert json.loads((tmp_path / "local" / "state" / "queue.json").read_text()) == [
        {"id": "from-the-last-boot"}
    ]

    torn: list[str] = []
    reading = threading.Event()

    def read_the_bucket() -> None:  # whatever the bucket holds at any moment must be whole JSON
        while not reading.wait(0.005):
            try:
                json.loads((bucket / "queue.json").read_bytes())
            except ValueError as err:
                torn.append(str(err))
            except FileNotFoundError:
                torn.append("missing")

    reader = threading.Thread(target=read_the_bucket)
    reader.start()
    try:
        assert post_json(run.port, "/api/queue", {"id": "q2"}) == 200  # rewritten in place, torn for 0.2 s
        run.wait_for(
            "the queue on the bucket",
            lambda: (
                json.loads((bucket / "queue.json").read_text())
                == [{"id": "from-the-last-boot"}, {"id": "q2"}]
            ),
        )
    finally:
        reading.set()
        reader.join()
    assert torn == [], "the bucket never held a torn queue.json"
    assert symlinks_under(bucket) == [], "no symlink on the bucket"
    assert run.terminate() == 0

    # The next boot starts from a fresh local disk (as a Space does) and gets the queue from the bucket;
    # with a long sync period only the final mirror at stop can carry the last change.
    fresh = {
        **env,
        "SONGGEN_LOCAL_DIR": str(tmp_path / "local2"),
        "SONGGEN_CACHE_DIR": str(tmp_path / "cache2"),
    }
    run = launch(process_env(fresh, SONGGEN_STATE_SYNC_SECONDS="3600"), app_dir)
    run.wait_healthy()
    assert json.loads((app_dir / "queue.json").read_text()) == [{"id": "from-the-last-boot"}, {"id": "q2"}]
    assert post_json(run.port, "/api/queue", {"id": "q3"}) == 200
    assert json.loads((bucket / "queue.json").read_text())[-1] == {"id": "q2"}, "not mirrored yet"
    assert run.terminate() == 0
    assert json.loads((bucket / "queue.json").read_text())[-1] == {"id": "q3"}, (
        "mirrored once the Studio stopped"
    )
    assert symlinks_under(bucket) == []
    assert sorted(p.name for p in bucket.iterdir() if p.is_file()) == ["queue.json", "verified_models.json"]
