"""What every Fly stack promises, proved under the real engine against the emulator.

A stack touches only what it made; destroy leaves nothing billable whatever happened before; no routine edit
empties a volume unsaid; a failed update does not strand the machine; retries follow time; a machine at rest
stays at rest; errors are one message; an interrupted CLI leaves nothing running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from pulumi import automation as auto

from emulator import FlyEmulator
from tests.engine.conftest import StackFactory
from tests.engine.fly_stack import (
    APP,
    OWNER,
    PREBUILT,
    configure,
    destroy_leaves_nothing_billable,
    machines,
    volumes,
    writes,
)

pytestmark = pytest.mark.engine

SANDBOX_FILE = (Path(__file__).resolve().parents[2] / "Pulumi.sandbox.yaml").read_text()


def fly(emulator: FlyEmulator, token: str) -> httpx.Client:
    """Another hand on the same account, as flyctl would act."""
    return httpx.Client(base_url=emulator.base_url, headers={"Authorization": f"FlyV1 {token}"}, timeout=10)


def output_of(err: pytest.ExceptionInfo[auto.CommandError]) -> str:
    return str(err.value)


def test_a_stack_copied_from_another_never_adopts_rewrites_or_destroys_its_app(
    make_stack: StackFactory, fly_env: dict[str, str], emulator: FlyEmulator
) -> None:
    dev = make_stack("sandbox", env=fly_env)
    dev.up(color="never")
    before = emulator.state()
    staging = make_stack("staging", stack_file=SANDBOX_FILE, env=fly_env)  # the same appName

    emulator.clear_requests()
    with pytest.raises(auto.CommandError) as caught:
        staging.up(color="never")
    message = output_of(caught)
    assert (
        "songgen-studio:appName: the Fly app songgen-studio-sandbox already exists and belongs to the stack 'sandbox'"
        in message
    )
    assert "pulumi config set appName" in message
    assert "Traceback" not in message
    assert writes(emulator) == []

    staging.destroy(color="never")  # staging made nothing, so it removes nothing
    assert writes(emulator) == []
    after = emulator.state()
    assert after["machines"] == before["machines"]
    assert after["volumes"] == before["volumes"]
    assert after["ips"] == before["ips"]
    destroy_leaves_nothing_billable(dev, emulator)


def test_a_machine_that_never_starts_is_destroyed_again_so_no_unrecorded_machine_is_left(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    emulator.fail_image(PREBUILT)
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    message = output_of(caught)
    assert "was destroyed again, so nothing is left running that the state does not list" in message
    assert "Traceback" not in message
    assert machines(emulator) == []
    destroy_leaves_nothing_billable(stack, emulator)


def test_destroy_removes_what_a_cut_short_run_left_and_names_what_the_state_did_not_list(
    stack: auto.Stack, emulator: FlyEmulator, fly_token: str
) -> None:
    # A run cut short after Fly made the machine: the volume is recorded, the machine is not.
    emulator.inject_fault(method="POST", path=rf"/v1/apps/{APP}/machines", status=503, times=100)
    with pytest.raises(auto.CommandError):
        stack.up(color="never")
    emulator.clear_faults()
    (volume,) = volumes(emulator)
    config = {"image": PREBUILT, "mounts": [{"volume": volume["id"], "path": "/data"}]}
    with fly(emulator, fly_token) as flyctl:
        unrecorded = flyctl.post(
            f"/apps/{APP}/machines",
            json={
                "name": "studio-ord-1",
                "region": "ord",
                "config": {**config, "metadata": {"songgen_owner": OWNER}},
            },
        ).json()
        debug = flyctl.post(
            f"/apps/{APP}/machines", json={"name": "debug", "region": "ord", "config": {"image": "alpine:3"}}
        ).json()

    lines: list[str] = []
    stack.destroy(color="never", on_output=lines.append)
    said = "".join(lines)
    assert emulator.billable() == []
    assert f"machine {unrecorded['id']} (studio-ord-1" in said
    assert "was made by this stack but is not in its state" in said
    assert f"machine {debug['id']} (debug" in said
    assert "was not made by this stack" in said


def test_an_update_that_does_not_come_up_is_put_back_and_reverting_the_stack_file_is_a_no_op(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    stack.up(color="never")
    (before,) = machines(emulator)
    broken = "registry.fly.io/songgen-studio-sandbox:broken"
    emulator.fail_image(broken)

    configure(stack, image=broken)
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    message = output_of(caught)
    assert f"was put back on its previous config ({PREBUILT}) and runs again" in message
    assert "Traceback" not in message
    (restored,) = machines(emulator)
    assert restored["id"] == before["id"]
    assert (restored["config"]["image"], restored["state"]) == (PREBUILT, "started")

    configure(stack, image=PREBUILT)  # the revert
    preview = stack.preview(color="never")
    assert {op for op, n in preview.change_summary.items() if n} == {auto.OpType.SAME}
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_new_gpu_kind_forks_the_volume_so_the_songs_and_cache_move_with_the_machine(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    stack.up(color="never")
    (old,) = volumes(emulator)
    emulator.set_volume_data(APP, old["id"], {"songs": ["first-song.flac"], "models": ["base"]})

    configure(stack, gpuKind="l40s")
    lines: list[str] = []
    stack.up(color="never", on_output=lines.append)
    (new,) = volumes(emulator)
    assert new["id"] != old["id"]
    assert new["compute"]["gpu_kind"] == "l40s"
    assert emulator.volume_data(APP, new["id"]) == {"songs": ["first-song.flac"], "models": ["base"]}
    assert "replaced by a fork of itself, so its songs and model cache are kept" in "".join(lines)
    destroy_leaves_nothing_billable(stack, emulator)


def test_losing_one_volume_never_replaces_the_healthy_volumes_beside_it(
    stack: auto.Stack, emulator: FlyEmulator, fly_token: str
) -> None:
    configure(stack, machines='{"ord": 2}')
    stack.up(color="never")
    by_name = {v["name"]: v for v in volumes(emulator)}
    second = by_name["cache_ord_2"]
    emulator.set_volume_data(APP, second["id"], {"songs": ["kept.flac"]})
    first_machine = next(m for m in machines(emulator) if m["name"] == "studio-ord-1")
    with fly(emulator, fly_token) as flyctl:  # the first volume and its machine are lost
        flyctl.delete(f"/apps/{APP}/machines/{first_machine['id']}", params={"force": "true"})
        flyctl.get(
            f"/apps/{APP}/machines/{first_machine['id']}/wait", params={"state": "destroyed", "timeout": 10}
        )
        flyctl.delete(f"/apps/{APP}/volumes/{by_name['cache_ord_1']['id']}")

    stack.refresh(color="never")
    stack.up(color="never")
    after = {v["name"]: v for v in volumes(emulator)}
    assert after["cache_ord_2"]["id"] == second["id"]
    assert emulator.volume_data(APP, second["id"]) == {"songs": ["kept.flac"]}
    assert after["cache_ord_1"]["id"] != by_name["cache_ord_1"]["id"]
    assert len(machines(emulator)) == 2
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_region_change_says_in_words_which_volume_loses_its_songs_and_cache(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    configure(stack, gpuKind="a100-sxm4-80gb", primaryRegion="iad")
    stack.up(color="never")
    configure(stack, primaryRegion="sjc")
    lines: list[str] = []
    stack.preview(color="never", on_output=lines.append)
    said = " ".join("".join(lines).split())
    assert (
        f"volume cache_iad_1 of app {APP} (50 GB in iad) is removed or replaced by an empty one: the songs, "
        "uploads and model cache it holds are lost" in said
    )
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_protected_stack_refuses_to_lose_a_volume_before_any_write(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    configure(stack, gpuKind="a100-sxm4-80gb", primaryRegion="iad", protectData="true")
    stack.up(color="never")
    configure(stack, primaryRegion="sjc")
    emulator.clear_requests()
    with pytest.raises(auto.CommandError) as caught:
        stack.up(color="never")
    message = output_of(caught)
    assert "songgen-studio:protectData:" in message
    assert "pulumi config set protectData false" in message
    assert "Traceback" not in message
    assert writes(emulator) == []
    assert [v["region"] for v in volumes(emulator)] == ["iad"]
    configure(stack, protectData="false")
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_twelve_second_burst_of_429s_on_every_route_does_not_fail_up(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    emulator.inject_fault(method="*", path=r"/v1/.*", status=429, retry_after=1, seconds=12)
    started = time.monotonic()
    stack.up(color="never")
    assert time.monotonic() - started >= 12
    assert len(machines(emulator)) == 1
    assert any(r.status == 429 for r in emulator.requests())
    destroy_leaves_nothing_billable(stack, emulator)


def test_twenty_machines_deploy_under_fly_rate_limits_in_one_up_with_one_listing_of_the_app(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    emulator.set_rate_limit(True)
    configure(stack, gpuKind="a100-sxm4-80gb", primaryRegion="iad", machines='{"iad": 10, "sjc": 10}')
    stack.up(color="never")
    assert len(machines(emulator)) == 20
    assert len(volumes(emulator)) == 20
    listings = [r for r in emulator.requests() if r.method == "GET" and r.path == f"/v1/apps/{APP}/machines"]
    assert len(listings) == 1
    destroy_leaves_nothing_billable(stack, emulator)


def test_a_machine_that_stopped_itself_takes_a_new_image_without_booting(
    stack: auto.Stack, emulator: FlyEmulator, fly_token: str
) -> None:
    stack.up(color="never")
    (machine,) = machines(emulator)
    with fly(emulator, fly_token) as flyctl:  # what the entrypoint's idle stop leads to
        flyctl.post(f"/apps/{APP}/machines/{machine['id']}/stop").raise_for_status()
        flyctl.get(f"/apps/{APP}/machines/{machine['id']}/wait", params={"state": "stopped", "timeout": 10})

    configure(stack, image="registry.fly.io/songgen-studio-sandbox:v2")
    lines: list[str] = []
    stack.up(color="never", on_output=lines.append)
    (after,) = machines(emulator)
    assert after["config"]["image"] == "registry.fly.io/songgen-studio-sandbox:v2"
    assert after["state"] == "stopped"
    assert "applied without starting it" in "".join(lines)
    destroy_leaves_nothing_billable(stack, emulator)


def _children(pid: int) -> set[int]:
    """Every descendant of `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killing_the_cli_leaves_no_language_host_or_provider_running_and_destroy_cleans_up(
    stack: auto.Stack, emulator: FlyEmulator
) -> None:
    emulator.set_timing(boot_seconds=60.0, transition_seconds=0.05)  # the machine wait outlives the CLI
    env = {**os.environ, **stack.workspace.env_vars}
    cli = subprocess.Popen(
        ["pulumi", "up", "--yes", "--non-interactive", "--skip-preview", "--stack", stack.name],
        cwd=stack.workspace.work_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(r.method == "POST" and r.path.endswith("/machines") for r in emulator.requests()):
            assert time.monotonic() < deadline, "the machine was never created"
            time.sleep(0.2)
        plugins = _children(cli.pid)
        assert plugins  # the language host, the program and the provider process
        cli.send_signal(signal.SIGKILL)
        cli.wait(timeout=10)
        gone_by = time.monotonic() + 15
        while any(_alive(pid) for pid in plugins) and time.monotonic() < gone_by:
            time.sleep(0.2)
        assert [pid for pid in plugins if _alive(pid)] == []
    finally:
        if cli.poll() is None:
            cli.kill()

    emulator.set_timing(boot_seconds=0.1, transition_seconds=0.05)
    assert len(machines(emulator)) == 1  # made by Fly, never recorded
    stack.cancel()  # what the README says after a killed run: release the lock the dead CLI held
    destroy_leaves_nothing_billable(stack, emulator)
