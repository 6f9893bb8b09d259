"""Space settings through HfApi: hardware flavors, secrets (never readable), variables and volumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import HfApi, Volume
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from hub_emulator import HubEmulator
from tests.hub_emulator.conftest import SPACE, People
from tests.hub_emulator.helpers import create_space, deploy, wait_stage

pytestmark = pytest.mark.timeout(60)

WEIGHTS = "lglg666/SongGeneration-base"


def test_the_hardware_list_offers_the_facts_gpu_table_with_per_minute_prices(api: HfApi) -> None:
    flavors = {h.name: h for h in api.list_spaces_hardware()}
    assert {"cpu-basic", "a10g-small", "a10g-large", "l4x1", "l40sx1", "a100-large"} <= set(flavors)
    l40s = flavors["l40sx1"]
    assert (l40s.cpu, l40s.ram, l40s.unit_label) == ("8 vCPU", "62 GB", "minute")
    assert l40s.accelerator is not None
    assert (l40s.accelerator.model, l40s.accelerator.vram) == ("L40S", "48 GB")
    assert l40s.unit_cost_micro_usd == 30_000  # $1.80 per hour
    assert flavors["cpu-basic"].unit_cost_usd == 0


def test_secret_values_are_write_only(hub: HubEmulator, people: People, api: HfApi) -> None:
    value = "hf_secret_value_" + people.bob[-8:]
    create_space(api)
    api.add_space_secret(SPACE, "HF_TOKEN", value, description="to mount private weights")
    secrets = api.get_space_secrets(SPACE)
    assert set(secrets) == {"HF_TOKEN"}
    assert secrets["HF_TOKEN"].description == "to mount private weights"
    assert secrets["HF_TOKEN"].updated_at is not None
    assert hub.secret_matches(SPACE, "HF_TOKEN", value)
    assert not hub.secret_matches(SPACE, "HF_TOKEN", "something else")
    everything = json.dumps(hub.state()) + json.dumps([r.as_dict() for r in hub.requests()])
    assert value not in everything
    api.delete_space_secret(SPACE, "HF_TOKEN")
    assert api.get_space_secrets(SPACE) == {}
    with pytest.raises(HfHubHTTPError) as caught:
        api.delete_space_secret(SPACE, "HF_TOKEN")
    assert caught.value.response.status_code == 404


def test_variables_are_listed_with_their_values(api: HfApi) -> None:
    create_space(api)
    after_add = api.add_space_variable(SPACE, "SONGGEN_IDLE_MINUTES", "15", description="idle stop")
    assert after_add["SONGGEN_IDLE_MINUTES"].value == "15"
    api.add_space_variable(SPACE, "SONGGEN_IDLE_MINUTES", "30")
    assert api.get_space_variables(SPACE)["SONGGEN_IDLE_MINUTES"].value == "30"
    assert api.delete_space_variable(SPACE, "SONGGEN_IDLE_MINUTES") == {}


def test_settings_need_write_access_to_the_space(hub: HubEmulator, people: People, api: HfApi) -> None:
    create_space(api)
    bob = HfApi(endpoint=hub.url, token=people.bob)
    for attempt in (
        lambda: bob.get_space_secrets(SPACE),
        lambda: bob.get_space_variables(SPACE),
        lambda: bob.set_space_sleep_time(SPACE, 300),
        lambda: bob.pause_space(SPACE),
    ):
        with pytest.raises(HfHubHTTPError) as caught:
            attempt()
        assert caught.value.response.status_code == 403
    assert bob.get_space_runtime(SPACE).stage == "NO_APP_FILE"  # the runtime of a public Space is public


def test_volumes_mount_weight_repos_read_only_and_buckets_read_write(hub: HubEmulator, api: HfApi) -> None:
    hub.add_repo(WEIGHTS, {"config.yaml": "a: 1\n"})
    api.create_bucket("alice/songs")
    create_space(
        api,
        space_volumes=[Volume(type="model", source=WEIGHTS, mount_path="/weights/base", read_only=False)],
    )
    runtime = api.get_space_runtime(SPACE)
    assert runtime.volumes is not None
    assert [(v.type, v.source, v.mount_path, v.read_only) for v in runtime.volumes] == [
        ("model", WEIGHTS, "/weights/base", True)
    ]
    api.set_space_volumes(
        SPACE,
        [
            Volume(type="model", source=WEIGHTS, mount_path="/weights/base", revision="main"),
            Volume(type="bucket", source="alice/songs", mount_path="/data"),
        ],
    )
    volumes = api.get_space_runtime(SPACE).volumes or []
    assert [(v.type, v.mount_path, v.read_only, v.revision) for v in volumes] == [
        ("model", "/weights/base", True, "main"),
        ("bucket", "/data", False, None),
    ]
    api.delete_space_volumes(SPACE)
    assert api.get_space_runtime(SPACE).volumes is None


def test_volumes_with_a_missing_source_or_a_clashing_path_are_refused(hub: HubEmulator, api: HfApi) -> None:
    hub.add_repo(WEIGHTS, {"config.yaml": "a: 1\n"})
    create_space(api)
    for volumes, reason in (
        ([Volume(type="model", source="lglg666/nope", mount_path="/w")], "does not exist"),
        ([Volume(type="bucket", source="alice/none", mount_path="/data")], "does not exist"),
        ([Volume(type="model", source=WEIGHTS, mount_path="/w", revision="v2")], "no revision"),
        ([Volume(type="model", source=WEIGHTS, mount_path="relative")], "absolute"),
        (
            [
                Volume(type="model", source=WEIGHTS, mount_path="/w"),
                Volume(type="model", source=WEIGHTS, mount_path="/w"),
            ],
            "used by another volume",
        ),
    ):
        with pytest.raises(BadRequestError, match=reason):
            api.set_space_volumes(SPACE, volumes)
    assert api.get_space_runtime(SPACE).volumes is None


def test_a_volume_change_restarts_a_running_space(hub: HubEmulator, api: HfApi, tmp_path: Path) -> None:
    hub.add_repo(WEIGHTS, {"config.yaml": "a: 1\n"})
    deploy(api, tmp_path / "ctx")
    hub.configure(start_seconds=0.5)  # time to look at the Space while it restarts
    api.set_space_volumes(SPACE, [Volume(type="model", source=WEIGHTS, mount_path="/weights")])
    assert api.get_space_runtime(SPACE).stage == "APP_STARTING"
    wait_stage(api, "RUNNING")
    assert hub.state()["spaces"][SPACE]["runtime"]["starts"] == 2
