"""Commits through preupload + ndjson commit: regular files only, LFS/Xet refused, the Hub's conflict answers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, RemoteEntryNotFoundError

from hub_emulator import HubEmulator
from tests.hub_emulator.conftest import SPACE, People
from tests.hub_emulator.helpers import create_space, push_context

pytestmark = pytest.mark.timeout(60)


def _files(hub: HubEmulator, repo_id: str = SPACE) -> dict[str, int]:
    return {path: meta["size"] for path, meta in hub.state()["spaces"][repo_id]["files"].items()}


def test_every_commit_bumps_the_sha_and_sets_exactly_the_tree_asked_for(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    create_space(api)
    created = api.space_info(SPACE).sha
    first = push_context(api, tmp_path / "ctx", entrypoint="#!/bin/sh\n")
    assert first != created
    assert set(_files(hub)) == {".gitattributes", "README.md", "Dockerfile", "main.py", "entrypoint"}
    second = api.create_commit(
        SPACE,
        [
            CommitOperationAdd("app/settings.json", b'{"port": 7860}'),
            CommitOperationDelete("entrypoint"),
            CommitOperationDelete("main.py"),
        ],
        commit_message="settings",
        repo_type="space",
    )
    assert second.oid not in (first, created)
    assert second.commit_url == f"{hub.url}/spaces/{SPACE}/commit/{second.oid}"
    assert api.space_info(SPACE).sha == second.oid
    assert set(_files(hub)) == {".gitattributes", "README.md", "Dockerfile", "app/settings.json"}
    api.create_commit(SPACE, [CommitOperationDelete("app/")], commit_message="drop folder", repo_type="space")
    assert "app/settings.json" not in _files(hub)


def test_an_unchanged_context_makes_no_commit(hub: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    create_space(api)
    first = push_context(api, tmp_path / "ctx")
    builds = hub.state()["spaces"][SPACE]["runtime"]["builds"]
    assert push_context(api, tmp_path / "ctx") == first
    assert hub.state()["spaces"][SPACE]["commits"] == 2
    assert hub.state()["spaces"][SPACE]["runtime"]["builds"] == builds


def test_deleting_a_file_that_does_not_exist_is_entry_not_found(api: HfApi) -> None:
    create_space(api)
    with pytest.raises(RemoteEntryNotFoundError, match="doesn't exist"):
        api.create_commit(
            SPACE, [CommitOperationDelete("nope.txt")], commit_message="delete", repo_type="space"
        )


def test_a_stale_parent_commit_is_412(api: HfApi, tmp_path: Path) -> None:
    create_space(api)
    stale = api.space_info(SPACE).sha
    push_context(api, tmp_path / "ctx")
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(
            SPACE,
            [CommitOperationAdd("x.txt", b"x")],
            commit_message="late",
            repo_type="space",
            parent_commit=stale,
        )
    assert caught.value.response.status_code == 412


@pytest.mark.parametrize(
    ("path", "content", "reason"),
    [
        ("weights/big.txt", b"a" * 2048, "above the 1024-byte limit"),
        ("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary"),
        ("tools/new_prompt.pt", b"text but an LFS pattern", "'*.pt'"),
    ],
    ids=["too-big", "binary", "lfs-pattern"],
)
def test_files_the_hub_would_send_through_lfs_are_refused_clearly(
    hub: HubEmulator, api: HfApi, path: str, content: bytes, reason: str
) -> None:
    hub.configure(regular_file_limit=1024)
    create_space(api)
    before = api.space_info(SPACE).sha
    with pytest.raises(BadRequestError) as caught:
        api.upload_file(path_or_fileobj=content, path_in_repo=path, repo_id=SPACE, repo_type="space")
    message = str(caught.value)
    assert "LFS/Xet" in message
    assert path in message
    assert reason in message
    assert api.space_info(SPACE).sha == before
    assert not [r for r in hub.requests() if "/commit/" in r.path]


def test_an_empty_file_is_always_regular(hub: HubEmulator, api: HfApi) -> None:
    create_space(api)
    api.upload_file(path_or_fileobj=b"", path_in_repo="empty.bin", repo_id=SPACE, repo_type="space")
    assert _files(hub)["empty.bin"] == 0


def test_a_readme_with_invalid_front_matter_is_refused_before_the_commit(api: HfApi) -> None:
    create_space(api)
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        api.create_commit(
            SPACE,
            [CommitOperationAdd("README.md", b"---\nsdk: [docker\n---\n")],
            commit_message="broken card",
            repo_type="space",
        )


def test_commits_to_other_revisions_and_pull_requests_are_not_silently_accepted(
    hub: HubEmulator, api: HfApi
) -> None:
    create_space(api)
    with pytest.raises(HfHubHTTPError) as caught:
        api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=SPACE, repo_type="space", revision="dev"
        )
    assert caught.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError):
        api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=SPACE, repo_type="space", create_pr=True
        )
    assert "x.txt" not in _files(hub)


def test_a_gitignore_excludes_files_from_the_commit(hub: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    create_space(api)
    push_context(api, tmp_path / "ctx", **{".gitignore": "*.log\ncache/\n", "run.log": "noise\n"})
    (tmp_path / "ctx" / "cache").mkdir()
    (tmp_path / "ctx" / "cache" / "blob.txt").write_text("cached\n")
    api.upload_folder(repo_id=SPACE, repo_type="space", folder_path=tmp_path / "ctx")
    files = _files(hub)
    assert ".gitignore" in files
    assert "run.log" not in files
    assert "cache/blob.txt" not in files


def test_malformed_commit_payloads_are_400(hub: HubEmulator, people: People, api: HfApi) -> None:
    create_space(api)
    url = f"{hub.url}/api/spaces/{SPACE}/commit/main"
    headers = {"Authorization": f"Bearer {people.alice}", "Content-Type": "application/x-ndjson"}
    no_header = b'{"key": "file", "value": {"path": "a", "content": "YQ==", "encoding": "base64"}}\n'
    unknown = b'{"key": "header", "value": {"summary": "s"}}\n{"key": "rename", "value": {"path": "a"}}\n'
    for body in (b"not json\n", no_header, unknown):
        assert httpx.post(url, content=body, headers=headers).status_code == 400
    assert hub.state()["spaces"][SPACE]["commits"] == 1
