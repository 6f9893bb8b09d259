"""Error classification and the paragraph a person reads."""

from __future__ import annotations

from components.dynamic.api_error import Subject
from components.fly.catalog import GPU_END_OF_LIFE
from components.fly.errors import Category, FlyApiError, classify

MACHINE = {"name": "m", "region": "ord", "config": {"image": "x", "guest": {"gpu_kind": "a10", "gpus": 1}}}


def test_gpu_rejection_is_recognised_from_the_request_body() -> None:
    assert classify(400, "anything", "", "POST", "/apps/a/machines", MACHINE) == Category.GPU
    assert classify(400, "anything", "", "POST", "/apps/a/machines/0123", MACHINE) == Category.GPU
    volume = {"name": "v", "compute": {"gpu_kind": "l40s"}}
    assert classify(400, "anything", "", "POST", "/apps/a/volumes", volume) == Category.GPU


def test_a_400_without_a_gpu_is_an_invalid_request_not_a_gpu_rejection() -> None:
    cpu = {"config": {"image": "x", "guest": {"cpu_kind": "shared", "cpus": 1}}}
    assert classify(400, "bad", "", "POST", "/apps/a/machines", cpu) == Category.INVALID
    assert classify(400, "bad", "", "POST", "/apps/a/machines/01/stop", MACHINE) == Category.INVALID


def test_gpu_rejection_explains_the_date_and_what_to_do() -> None:
    err = FlyApiError(
        Subject("machine", "songgen-dev-ord-1"),
        message="GPU Machines are no longer available",
        method="POST",
        path="/apps/songgen-dev/machines",
        status=400,
        category=Category.GPU,
    )
    text = str(err)
    assert GPU_END_OF_LIFE.isoformat() in text
    assert "machine songgen-dev-ord-1" in text
    assert "emulator" in text
    assert "another GPU" in text


def test_classification_by_fly_status_code_and_wording() -> None:
    assert (
        classify(422, "Name has already been taken", "name_taken", "POST", "/apps", {}) == Category.NAME_TAKEN
    )
    assert classify(422, "Name has already been taken", "", "POST", "/apps", {}) == Category.NAME_TAKEN
    assert (
        classify(422, "no room", "insufficient_capacity", "POST", "/apps/a/machines", {}) == Category.CAPACITY
    )
    assert classify(400, "aborted: no capacity", "", "POST", "/apps/a/volumes", {}) == Category.CAPACITY
    assert classify(403, "organization quota exceeded", "", "POST", "/apps/a/volumes", {}) == Category.QUOTA
    assert classify(401, "unauthorized", "", "GET", "/apps/a", None) == Category.AUTH
    assert classify(409, "lease currently held by x", "", "POST", "/apps/a/machines/1", {}) == Category.LEASE
    assert classify(404, "not found", "", "GET", "/apps/a", None) == Category.NOT_FOUND
    assert classify(429, "slow down", "", "GET", "/apps/a", None) == Category.RATE_LIMITED
    assert classify(503, "down", "", "GET", "/apps/a", None) == Category.SERVER


def test_suggestions_say_what_to_do() -> None:
    def suggestion(category: str) -> str:
        return FlyApiError(Subject("app", "a"), message="m", category=category).suggestion

    assert "global" in suggestion(Category.NAME_TAKEN)
    assert "another region" in suggestion(Category.CAPACITY)
    assert "fly tokens create" in suggestion(Category.AUTH)
    assert "lease" in suggestion(Category.LEASE)
    assert "limit" in suggestion(Category.QUOTA)


def test_message_is_one_paragraph_with_status_request_id_and_attempts() -> None:
    err = FlyApiError(
        Subject("volume", "songgen_models"),
        message="internal\nserver   error",
        method="GET",
        path="/apps/a/volumes",
        status=503,
        request_id="01J00REQUESTID",
        category=Category.SERVER,
        attempts=5,
        elapsed_s=3.2,
    )
    text = str(err)
    assert "\n" not in text
    assert "volume songgen_models" in text
    assert "HTTP 503" in text
    assert "01J00REQUESTID" in text
    assert "5 attempts" in text
    assert '"internal server error"' in text


def test_secrets_echoed_by_the_api_are_scrubbed_from_the_message() -> None:
    err = FlyApiError(
        Subject("secrets", "a"), message="bad value hunter2-secret", status=400, redact=["hunter2-secret"]
    )
    assert "hunter2-secret" not in str(err)
    assert "[redacted]" in str(err)
