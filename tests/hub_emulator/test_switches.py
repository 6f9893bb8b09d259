"""Faults (and HfApi's own retries), latency, the request log, state/billable/leftovers, reset, and the HTTP
control surface that other processes use."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from hub_emulator import HubEmulator, HubEmulatorError
from tests.hub_emulator.conftest import SPACE, People
from tests.hub_emulator.helpers import create_space, deploy, push_context, wait_stage

pytestmark = pytest.mark.timeout(60)


def test_hfapi_retries_a_preupload_fault_on_its_own(hub: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    create_space(api)
    hub.inject_fault("POST", r"/api/spaces/.+/preupload/main", status=503, times=1, retry_after=0)
    push_context(api, tmp_path / "ctx")
    preuploads = [r.status for r in hub.requests() if "/preupload/" in r.path]
    assert preuploads == [503, 200]
    first = next(r for r in hub.requests() if "/preupload/" in r.path)
    assert first.bytes_sent > 0


def test_a_fault_where_hfapi_does_not_retry_surfaces_with_the_hubs_message(
    hub: HubEmulator, api: HfApi
) -> None:
    create_space(api)
    hub.inject_fault(
        "POST",
        r"/api/spaces/.+/commit/main",
        status=500,
        message="Internal Error - We're working hard to fix this",
    )
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(SPACE, [CommitOperationAdd("a.txt", b"a")], commit_message="a", repo_type="space")
    assert caught.value.response.status_code == 500
    assert "We're working hard" in str(caught.value)
    assert caught.value.response.headers["X-Request-Id"]
    assert hub.state()["spaces"][SPACE]["commits"] == 1


def test_a_lost_commit_answer_is_retried_by_upload_folder_and_lands_twice(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    # upload_folder retries its commit on 5xx: if the commit happened, the retry commits again.
    create_space(api)
    hub.inject_fault("POST", r"/api/spaces/.+/commit/main", status=502, after=True, retry_after=0)
    push_context(api, tmp_path / "ctx")
    commits = [r.status for r in hub.requests() if "/commit/" in r.path]
    assert commits == [502, 200]
    assert hub.state()["spaces"][SPACE]["commits"] == 3  # the first commit, then two identical ones


def test_faults_match_method_and_whole_path_and_are_consumed(hub: HubEmulator, api: HfApi) -> None:
    create_space(api)
    hub.inject_fault("GET", r"/api/spaces/alice/studio/runtime", status=429, times=2, retry_after=7)
    assert api.space_info(SPACE).id == SPACE  # another path
    raw = httpx.get(f"{hub.url}/api/spaces/{SPACE}/runtime", headers={"Authorization": f"Bearer {api.token}"})
    assert (raw.status_code, raw.headers["Retry-After"]) == (429, "7")
    assert hub.state()["faults"][0]["remaining"] == 1
    hub.clear_faults()
    assert api.get_space_runtime(SPACE).stage == "NO_APP_FILE"
    with pytest.raises(HubEmulatorError):
        hub.inject_fault(path="(", status=500)
    with pytest.raises(HubEmulatorError):
        hub.inject_fault(path=".*", status=200)


def test_latency_is_added_to_every_request(hub: HubEmulator, api: HfApi) -> None:
    hub.set_latency(0.2)
    started = time.monotonic()
    api.whoami()
    assert time.monotonic() - started >= 0.2
    assert hub.requests()[-1].duration_s >= 0.2


def test_billable_and_leftovers_tell_paid_running_spaces_from_things_left_behind(
    hub: HubEmulator, api: HfApi, tmp_path: Path
) -> None:
    hub.add_repo("lglg666/SongGeneration-base", {"config.yaml": "a: 1\n"})  # a fixture: never listed
    deploy(api, tmp_path / "ctx", space_hardware="a10g-large")
    create_space(api, "alice/free")
    api.create_repo("alice/notes")
    api.create_bucket("alice/songs")
    assert hub.billable() == [
        "space alice/studio (a10g-large, RUNNING, $1.50/h)",
        "bucket alice/songs (0 files, 0 bytes)",
    ]
    api.pause_space(SPACE)
    assert hub.billable() == ["bucket alice/songs (0 files, 0 bytes)"]
    assert sorted(hub.leftovers()) == [
        "bucket alice/songs",
        "model alice/notes",
        "space alice/free (NO_APP_FILE, cpu-basic)",
        "space alice/studio (PAUSED, a10g-large)",
    ]


def test_reset_forgets_everything_but_the_settings(hub: HubEmulator, api: HfApi) -> None:
    create_space(api)
    hub.set_latency(0.01)
    hub.reset()
    state = hub.state()
    assert (state["spaces"], state["users"], state["tokens"], state["buckets"]) == ({}, {}, [], {})
    assert hub.requests() == []
    assert state["settings"]["latency"] == 0.01
    with pytest.raises(HfHubHTTPError) as caught:
        api.whoami()
    assert caught.value.response.status_code == 401


def test_bad_settings_and_control_calls_are_refused(hub: HubEmulator) -> None:
    for change in (
        {"latency": -1},
        {"bandwidth": 0},
        {"tree_page_size": 0},
        {"cdn_host": "a/b"},
        {"colour": 1},
    ):
        with pytest.raises(HubEmulatorError):
            hub.configure(**change)
    with pytest.raises(HubEmulatorError, match="add_user first"):
        hub.add_token("hf_x", "nobody")
    with pytest.raises(HubEmulatorError, match="role"):
        hub.new_token("alice", "admin")


def test_the_control_surface_offers_the_same_switches_over_http(hub: HubEmulator, tmp_path: Path) -> None:
    with httpx.Client(base_url=hub.control_url, timeout=10) as control:
        assert control.get("/health").json()["emulation"] is True
        assert control.post("/users", json={"name": "carol", "orgs": ["band"]}).status_code == 200
        token = control.post("/tokens", json={"user": "carol"}).json()["token"]
        seeded = control.post(
            "/repos",
            json={
                "repo_id": "band/weights",
                "files": {
                    "config.yaml": {"text": "a: 1\n"},
                    "model.pt": {"synthetic": {"size": 5000, "seed": 2}},
                },
                "private": True,
            },
        )
        assert seeded.status_code == 200
        assert len(seeded.json()["sha"]) == 40
        api = HfApi(endpoint=hub.url, token=token)
        create_space(api, "carol/studio")
        assert (
            control.post("/spaces/carol/studio/fail-builds", json={"lines": ["boom"], "times": 1}).status_code
            == 200
        )
        push_context(api, tmp_path / "ctx", "carol/studio")
        assert control.post("/settings", json={"latency": 0}).json()["latency"] == 0
        assert control.post("/settings", json={"latency": "slow"}).status_code == 400
        assert control.post("/faults", json={"path": "/api/whoami-v2", "status": 503}).status_code == 200
        assert control.get("/faults").json()[0]["status"] == 503
        assert control.delete("/faults").status_code == 200
        assert control.post("/buckets", json={"bucket_id": "carol/songs"}).status_code == 200
        assert (
            control.put("/buckets/carol/songs/files/out/a.flac", json={"base64": "AAEC"}).status_code == 200
        )
        assert control.get("/buckets/carol/songs/files").json() == {"out/a.flac": 3}
        wait_stage(api, "BUILD_ERROR", "carol/studio")
        state = control.get("/state").json()
        model = state["models"]["band/weights"]["files"]["model.pt"]
        assert (model["size"], model["lfs"]) == (5000, True)
        assert state["spaces"]["carol/studio"]["runtime"]["build_log"][-2] == "boom"
        assert control.get("/leftovers").json() == {
            "leftovers": ["space carol/studio (BUILD_ERROR, cpu-basic)"]
        }
        assert control.get("/billable").json() == {"billable": []}
        logged = control.get("/requests").json()
        assert {"method": "POST", "path": "/api/repos/create", "status": 200} in [
            {k: r[k] for k in ("method", "path", "status")} for r in logged
        ]
        assert control.delete("/requests").status_code == 200
        assert control.post("/reset").status_code == 200
        assert control.get("/state").json()["spaces"] == {}
    # The control surface itself is never logged, faulted or slowed.
    assert hub.requests() == []


def test_unknown_routes_answer_json_404_naming_the_route(hub: HubEmulator, people: People) -> None:
    response = httpx.get(
        f"{hub.url}/api/no/such/thing/here", headers={"Authorization": f"Bearer {people.alice}"}
    )
    assert response.status_code == 404
    assert response.json() == {"error": "no such route: GET /api/no/such/thing/here"}
    assert "X-Error-Code" not in response.headers  # never mistaken for RepoNotFound


def test_a_timed_fault_answers_every_matching_request_until_it_expires(hub: HubEmulator, api: HfApi) -> None:
    hub.inject_fault("GET", r"/api/whoami-v2", status=503, seconds=0.4)
    url, headers = f"{hub.url}/api/whoami-v2", {"Authorization": f"Bearer {api.token}"}
    assert {httpx.get(url, headers=headers).status_code for _ in range(4)} == {503}
    time.sleep(0.45)
    assert api.whoami()["name"] == "alice"
    assert hub.state()["faults"] == []
