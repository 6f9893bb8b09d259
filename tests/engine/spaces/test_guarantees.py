"""What every Spaces stack promises, proved under the real engine against the Hub stand-in: it touches only
what it made, lost answers and rate limits do not make things twice or fail a deploy, and no edit or destroy
loses the songs unsaid, or at all when the stack protects them."""

from __future__ import annotations

import time

import pytest
from pulumi import automation as auto

from hub_emulator import HubEmulator
from lifecycle.hub_stand_in import STACK
from tests.engine.conftest import StackFactory
from tests.engine.spaces.conftest import (
    BUCKET,
    SPACE,
    STACK_FILE,
    TEAM,
    configure,
    destroy_leaves_nothing,
    space,
    writes,
)

pytestmark = pytest.mark.engine

# A stack file that names its Space, as one copied to start another stack would.
NAMED = STACK_FILE.replace("config:\n", f"config:\n  songgen-studio:spaceName: {SPACE.split('/')[1]}\n", 1)


def test_a_stack_copied_from_another_never_adopts_rewrites_or_destroys_its_space(
    make_stack: StackFactory, hub_env: dict[str, str], hub: HubEmulator
) -> None:
    first = make_stack(STACK, stack_file=NAMED, env=hub_env)
    first.up(color="never")
    before = hub.state()
    staging = make_stack("staging", stack_file=NAMED, env=hub_env)

    hub.clear_requests()
    with pytest.raises(auto.CommandError) as caught:
        staging.up(color="never")
    message = str(caught.value)
    assert (
        f"songgen-studio:spaceName: the Space {SPACE} already exists and belongs to the stack '{STACK}'"
        in message
    )
    assert "this stack (staging) leaves it alone and changed nothing" in message
    assert "pulumi config set spaceName <name>" in message
    assert "Traceback" not in message
    assert writes(hub) == []

    staging.destroy(color="never")  # staging made nothing, so it removes nothing
    assert writes(hub) == []
    after = hub.state()
    assert after["spaces"] == before["spaces"]
    assert after["buckets"] == before["buckets"]
    destroy_leaves_nothing(first, hub)


def test_answers_lost_after_every_create_are_adopted_and_nothing_is_made_twice(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    for method, path in (
        ("POST", r"/api/repos/create"),
        ("POST", rf"/api/buckets/{BUCKET}"),
        ("POST", rf"/api/spaces/{SPACE}/commit/main"),
    ):
        hub.inject_fault(method, path, status=503, after=True)
    lines: list[str] = []
    stack.up(color="never", on_output=lines.append)
    said = "".join(lines)
    assert f"space {SPACE}: made by this stack in an earlier run; adopted" in said
    assert f"bucket {BUCKET}: made by this stack in an earlier run" in said
    assert space(hub)["commits"] == 2  # the Hub's first commit and ours, once
    assert space(hub)["runtime"]["stage"] == "RUNNING"
    assert hub.leftovers() == [f"space {SPACE} (RUNNING, l40sx1)", f"bucket {BUCKET}"]
    destroy_leaves_nothing(stack, hub)


def test_a_burst_of_429s_with_retry_after_on_every_route_does_not_fail_up(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    hub.inject_fault("*", r"/api/.*", status=429, times=8, retry_after=1)
    started = time.monotonic()
    stack.up(color="never")
    assert time.monotonic() - started >= 8
    assert any(r.status == 429 for r in hub.requests())
    assert space(hub)["runtime"]["stage"] == "RUNNING"
    destroy_leaves_nothing(stack, hub)


def test_an_edit_that_replaces_the_bucket_and_a_destroy_say_in_words_that_the_songs_go(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    stack.up(color="never")
    configure(stack, hfNamespace=TEAM)
    lines: list[str] = []
    stack.preview(color="never", on_output=lines.append)
    said = " ".join("".join(lines).split())
    assert (
        f"stored data: bucket {BUCKET} (the songs, uploads and queue of Space {SPACE}) is removed or replaced by "
        "an empty one: the songs, uploads and model cache it holds are lost" in said
    )
    assert (
        f"bucket {BUCKET}: replaced by a new, empty bucket; the songs, uploads and queue it holds are deleted"
        in said
    )
    configure(stack, hfNamespace=SPACE.split("/")[0])
    lines.clear()
    stack.preview_destroy(color="never", on_output=lines.append)
    assert "SongsNotice destroy-deletes-the-songs-in-the-bucket delete" in " ".join("".join(lines).split())
    destroy_leaves_nothing(stack, hub)


def test_a_protected_stack_refuses_to_lose_its_bucket_and_refuses_destroy_before_any_write(
    stack: auto.Stack, hub: HubEmulator
) -> None:
    configure(stack, protectData="true")
    stack.up(color="never")
    hub.put_bucket_file(BUCKET, "output/first-song.flac", b"song")
    before = hub.state()

    configure(stack, hfNamespace=TEAM)
    hub.clear_requests()
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    message = str(caught.value)
    assert "songgen-studio:protectData:" in message
    assert "pulumi config set protectData false" in message
    assert "Traceback" not in message
    assert writes(hub) == []

    configure(stack, hfNamespace=SPACE.split("/")[0])
    with pytest.raises(auto.CommandError) as refused:
        stack.destroy(color="never")
    assert 'destroy-deletes-the-songs-in-the-bucket" cannot be deleted' in str(refused.value)
    assert "because it is protected" in str(refused.value)
    assert writes(hub) == []
    after = hub.state()
    assert after["spaces"][SPACE]["runtime"]["stage"] == "RUNNING"
    assert after["spaces"][SPACE]["runtime"]["variables"] == before["spaces"][SPACE]["runtime"]["variables"]
    assert hub.bucket_files(BUCKET) == {"output/first-song.flac": 4}

    configure(stack, protectData="false")  # the documented way to lift it: config, up, destroy
    stack.up(color="never")
    destroy_leaves_nothing(stack, hub)
