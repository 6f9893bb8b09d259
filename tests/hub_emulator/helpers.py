"""Small steps shared by the Hub stand-in tests."""

from __future__ import annotations

import time
from pathlib import Path

from huggingface_hub import HfApi, SpaceRuntime

from tests.hub_emulator.conftest import SPACE, docker_context


def create_space(api: HfApi, repo_id: str = SPACE, **options: object) -> None:
    api.create_repo(repo_id, repo_type="space", space_sdk="docker", **options)  # type: ignore[arg-type]


def push_context(api: HfApi, folder: Path, repo_id: str = SPACE, **files: str) -> str:
    """Commit a Docker context (Dockerfile, README, main.py, plus `files`); returns the new commit id."""
    docker_context(folder)
    for name, text in files.items():
        (folder / name).write_text(text)
    return api.upload_folder(repo_id=repo_id, repo_type="space", folder_path=folder).oid


def wait_stage(api: HfApi, stage: str, repo_id: str = SPACE, timeout: float = 5.0) -> SpaceRuntime:
    """Poll the runtime until it reaches `stage` (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        runtime = api.get_space_runtime(repo_id)
        if runtime.stage == stage or time.monotonic() > deadline:
            assert runtime.stage == stage, f"still {runtime.stage} after {timeout} s (waiting for {stage})"
            return runtime
        time.sleep(0.02)


def deploy(api: HfApi, folder: Path, repo_id: str = SPACE, **options: object) -> str:
    """Create the Space, commit a context and wait until it runs; returns the running commit."""
    create_space(api, repo_id, **options)
    sha = push_context(api, folder, repo_id)
    wait_stage(api, "RUNNING", repo_id)
    return sha
