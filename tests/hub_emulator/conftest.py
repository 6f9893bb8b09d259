"""Fixtures: one real Hub stand-in on 127.0.0.1 for the session, reset to a clean slate before each test, with
short timings; users alice (member of the songgen organisation) and bob, each with a fresh random token, and
HfApi clients that talk to the stand-in exactly as the Spaces providers will."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.utils.tqdm import disable_progress_bars

from hub_emulator import HubEmulator

# Short enough that a whole build-and-start cycle takes a fraction of a second.
TIMINGS: dict[str, Any] = {
    "build_seconds": 0.05,
    "start_seconds": 0.05,
    "sleep_time_scale": 1.0,
    "log_idle_seconds": 0.3,
    "latency": 0.0,
    "bandwidth": None,
    "regular_file_limit": 10_000_000,
    "tree_page_size": 1000,
    "cdn_host": "localhost",
}
ORG = "songgen"
SPACE = "alice/studio"
DOCKERFILE = 'FROM python:3.11-slim\nRUN pip install \\\n    fastapi uvicorn\nCMD ["python", "main.py"]\n'
README = "---\ntitle: SongGeneration Studio\nsdk: docker\napp_port: 7860\n---\n\nA test Space.\n"


@dataclass
class People:
    alice: str  # write token
    alice_read: str
    bob: str  # write token, another user


@pytest.fixture(scope="session")
def _server() -> Iterator[HubEmulator]:
    disable_progress_bars()
    with HubEmulator() as hub:
        yield hub


@pytest.fixture
def hub(_server: HubEmulator) -> HubEmulator:
    # A server per test costs more than the tests; a reset plus default settings isolates them.
    _server.reset()
    _server.configure(**TIMINGS)
    return _server


@pytest.fixture
def people(hub: HubEmulator) -> People:
    hub.add_user("alice", orgs=[ORG], fullname="Alice")
    hub.add_user("bob")
    return People(hub.new_token("alice"), hub.new_token("alice", "read"), hub.new_token("bob"))


@pytest.fixture
def api(hub: HubEmulator, people: People) -> HfApi:
    return HfApi(endpoint=hub.url, token=people.alice)


def docker_context(folder: Path, dockerfile: str = DOCKERFILE, readme: str = README) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / "README.md").write_text(readme)
    (folder / "main.py").write_text("print('studio')\n")
    return folder
