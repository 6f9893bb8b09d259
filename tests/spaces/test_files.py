"""The Space's files against the Hub stand-in: one content-addressed commit, never twice, drift seen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.dynamic.errors import ProviderError
from components.image import DOCKER_DIR, context_files
from components.spaces.files import SpaceFilesProvider, git_blob_id, sha256
from components.spaces.space import SpaceProvider
from hub_emulator import HubEmulator
from tests.spaces.conftest import Account, spaces_settings, writes
from tests.spaces.steps import files_props, out_of, space_props

SPACE = "alice/songgen-studio-dev"
COMMIT = f"POST /api/spaces/{SPACE}/commit/main"


@pytest.fixture
def space(account: Account) -> str:
    return SpaceProvider().create(space_props(spaces_settings())).id


@pytest.fixture
def context(tmp_path: Path) -> Path:
    """A copy of docker/ that a test may edit."""
    return Path(
        shutil.copytree(DOCKER_DIR, tmp_path / "docker", ignore=shutil.ignore_patterns("__pycache__"))
    )


def props_for(context: Path) -> dict[str, object]:
    props = files_props(spaces_settings())
    files = {p.relative_to(context).as_posix(): sha256(p.read_bytes()) for p in context_files(context)}
    return {**props, "files": {**files, "README.md": props["files"]["README.md"]}, "context": str(context)}


def test_the_context_and_its_front_matter_go_in_as_one_commit_that_builds_the_space(
    hub: HubEmulator, space: str
) -> None:
    outs = out_of(SpaceFilesProvider().create(files_props(spaces_settings())))
    repo = hub.state()["spaces"][SPACE]
    assert outs["commit"] == repo["sha"]
    assert repo["commits"] == 2  # the Hub's first commit, then ours
    assert set(repo["files"]) == {*files_props(spaces_settings())["files"], ".gitattributes"}
    assert repo["runtime"]["stage"] in ("BUILDING", "APP_STARTING", "RUNNING")
    assert writes(hub).count(COMMIT) == 1
    dockerfile = (DOCKER_DIR / "Dockerfile").read_bytes()
    assert outs["blob_ids"]["Dockerfile"] == git_blob_id(dockerfile)


def test_a_space_that_already_holds_the_content_gets_no_commit(hub: HubEmulator, space: str) -> None:
    provider = SpaceFilesProvider()
    first = out_of(provider.create(files_props(spaces_settings())))
    hub.clear_requests()
    again = out_of(provider.create(files_props(spaces_settings())))  # a re-run after a lost answer
    assert again["commit"] == first["commit"]
    assert writes(hub) == []
    assert provider.diff(SPACE, first, files_props(spaces_settings())).changes is False


def test_one_changed_file_commits_that_file_and_a_removed_one_is_deleted(
    hub: HubEmulator, space: str, context: Path
) -> None:
    provider = SpaceFilesProvider()
    outs = out_of(provider.create(props_for(context)))
    (context / "requirements.in").write_text("# changed\n")
    (context / "compile_lock.py").unlink()
    news = props_for(context)
    assert provider.diff(SPACE, outs, news).changed_keys == ["files"]
    after = out_of(provider.update(SPACE, outs, news))
    repo = hub.state()["spaces"][SPACE]
    assert after["commit"] != outs["commit"]
    assert "compile_lock.py" not in repo["files"]
    assert ".gitattributes" in repo["files"]
    assert repo["files"]["requirements.in"]["size"] == len("# changed\n")


def test_a_lost_commit_answer_is_looked_at_again_and_never_committed_twice(
    hub: HubEmulator, space: str
) -> None:
    hub.inject_fault("POST", rf"/api/spaces/{SPACE}/commit/main", status=503, after=True)
    outs = out_of(SpaceFilesProvider().create(files_props(spaces_settings())))
    assert hub.state()["spaces"][SPACE]["commits"] == 2
    assert outs["commit"] == hub.state()["spaces"][SPACE]["sha"]


def test_a_commit_that_lost_the_race_with_another_is_made_again_on_the_new_head(
    hub: HubEmulator, space: str
) -> None:
    hub.inject_fault(
        "POST", rf"/api/spaces/{SPACE}/commit/main", status=412, message="A commit has happened since"
    )
    outs = out_of(SpaceFilesProvider().create(files_props(spaces_settings())))
    assert outs["commit"] == hub.state()["spaces"][SPACE]["sha"]


def test_read_reports_a_file_changed_or_added_by_hand(hub: HubEmulator, space: str, account: Account) -> None:
    from huggingface_hub import CommitOperationAdd

    provider = SpaceFilesProvider()
    outs = out_of(provider.create(files_props(spaces_settings())))
    account.api.create_commit(
        SPACE,
        [CommitOperationAdd(path_in_repo="Dockerfile", path_or_fileobj=b"FROM scratch\n"),
         CommitOperationAdd(path_in_repo="extra.txt", path_or_fileobj=b"x\n")],
        commit_message="by hand",
        repo_type="space",
    )  # fmt: skip
    read = provider.read(SPACE, outs)
    assert out_of(read)["files"]["Dockerfile"] == "changed outside Pulumi"
    assert out_of(read)["files"]["extra.txt"] == "added outside Pulumi"
    assert provider.diff(SPACE, out_of(read), files_props(spaces_settings())).changed_keys == ["files"]
    provider.update(SPACE, out_of(read), files_props(spaces_settings()))
    assert out_of(provider.read(SPACE, outs))["files"] == outs["files"]


def test_a_file_edited_after_the_preview_is_refused_by_name(space: str, context: Path) -> None:
    props = props_for(context)
    (context / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ProviderError) as caught:
        SpaceFilesProvider().create(props)
    assert "Dockerfile changed while this deploy ran" in str(caught.value)
