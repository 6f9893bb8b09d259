"""Fly machine: `POST /apps/{app}/machines`, `GET/POST/DELETE /apps/{app}/machines/{id}`, `GET .../wait`.

The resource id is the machine id. A new region or name replaces the machine (Fly's update cannot change either;
the old one is destroyed first: one volume, one name). Any other change (image, guest, env, services, checks,
mounts, metadata, secrets version) is an in-place update with the full config.

What an update does depends on where the machine is:
- running: the new config is applied and the machine is waited for until it runs again (or rests, when its
  services stop it when idle). If it does not come back (a crashing image, a failed start), it is put back on
  its previous config before the error is raised. The state of a failed update keeps the previous inputs (a
  dynamic provider cannot record half an update), so putting Fly back is what keeps the two in agreement: a
  revert of the stack file then really is "no change", and the Studio keeps serving meanwhile.
- at rest (it stopped itself when idle): the new config is applied without booting it (`skip_launch`), so an
  image or secrets change does not wake a GPU for nothing; it boots on the next request.

A create that fails after Fly accepted the machine (it never started, or crashed) destroys that machine again
before raising, so no machine is left running that the state does not list. Machines carry their stack's owner
id in `metadata.songgen_owner`; a re-run adopts only a machine with this stack's id, name and region.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.adopt import create_or_adopt
from components.dynamic.compare import is_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone

from .api import FlyClient, segment
from .app import OWNER_METADATA
from .errors import Category, FlyApiError
from .provider import FlyProvider, listed_once, project, same, to_wire
from .wait import GONE_STATES, RESTING_STATES, machine_path, wait_for_state

INPUTS = ("app_name", "name", "region", "config", "secrets_version", "wait_timeout_s", "owner")
REPLACE_ON = ("app_name", "name", "region")
DIFFED = ("app_name", "name", "region", "config", "secrets_version", "wait_timeout_s")
DEFAULT_WAIT_S = 600
# flyctl lists only machines that carry these (fly-go machine_types.go); ours come last so flyctl always sees them.
PLATFORM_METADATA = {"fly_platform_version": "v2", "fly_process_group": "app"}
# Putting a machine back after a failed update, or destroying a failed create, waits at most this long.
RECOVERY_WAIT_S = 120.0


class MachineGuest(TypedDict, total=False):
    cpu_kind: str
    cpus: int
    memory_mb: int
    gpu_kind: str
    gpus: int


class LaunchMachineRequest(TypedDict):
    name: str
    region: str
    config: dict[str, Any]
    min_secrets_version: NotRequired[int]
    skip_launch: NotRequired[bool]


class MachineResponse(TypedDict, total=False):
    id: str
    name: str
    state: str
    region: str
    instance_id: str
    private_ip: str
    config: dict[str, Any]
    created_at: str
    updated_at: str


def _machines(app: str) -> str:
    return f"/apps/{segment(app)}/machines"


def list_machines(fly: FlyClient, app: str) -> list[MachineResponse]:
    machines: list[MachineResponse] = fly.get_json(_machines(app)) or []
    return machines


def get_machine(fly: FlyClient, app: str, machine_id: str) -> MachineResponse | None:
    """The machine, or None when Fly says 404 or it is destroyed."""
    machine: MachineResponse | None = fly.get_json(machine_path(app, machine_id))
    return None if machine is None or machine.get("state") in GONE_STATES else machine


def launch_machine(fly: FlyClient, app: str, request: LaunchMachineRequest) -> MachineResponse:
    machine: MachineResponse = fly.send_json("POST", _machines(app), to_wire(dict(request)))
    return machine


def update_machine(
    fly: FlyClient, app: str, machine_id: str, request: LaunchMachineRequest
) -> MachineResponse:
    # The whole config is sent each time, so repeating it is harmless: retry like a PUT.
    body = to_wire(dict(request))
    machine: MachineResponse = fly.send_json("POST", machine_path(app, machine_id), body, idempotent=True)
    return machine


def destroy_machine(fly: FlyClient, app: str, machine_id: str) -> bool:
    return fly.delete(machine_path(app, machine_id), params={"force": "true"})


def desired_config(config: Any, owner: Any) -> Any:
    """The config as we send it: the caller's metadata plus the markers flyctl and re-runs rely on."""
    if not isinstance(config, Mapping):
        return config
    metadata = config.get("metadata")
    if is_unknown(metadata) or is_unknown(owner):
        return dict(config)
    marker = {OWNER_METADATA: owner} if owner else {}
    merged = {**dict(metadata or {}), **marker, **PLATFORM_METADATA}
    return {**config, "metadata": merged}


def rests_when_idle(config: Any) -> bool:
    """True when a service stops or suspends the machine when idle: then resting counts as ready."""
    services = config.get("services") if isinstance(config, Mapping) else None
    for service in services or []:
        autostop = service.get("autostop") if isinstance(service, Mapping) else None
        if autostop is True or autostop in ("stop", "suspend"):
            return True
    return False


def has_gpu(config: Any) -> bool:
    guest = config.get("guest") if isinstance(config, Mapping) else None
    return isinstance(guest, Mapping) and bool(guest.get("gpu_kind") or guest.get("gpus"))


class MachineProvider(FlyProvider):
    kind = "machine"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: plain(news.get(key)) for key in INPUTS}
        if inputs["wait_timeout_s"] is None:
            inputs["wait_timeout_s"] = DEFAULT_WAIT_S
        inputs["config"] = desired_config(inputs["config"], inputs["owner"])
        failures = []
        for key in ("app_name", "name", "region", "owner"):
            if not is_unknown(inputs[key]) and not (isinstance(inputs[key], str) and inputs[key]):
                failures.append(CheckFailure(key, f"{key} is required"))
        config = inputs["config"]
        if not is_unknown(config):
            if not isinstance(config, Mapping):
                failures.append(CheckFailure("config", "config must be the machine config as Fly takes it"))
            elif not is_unknown(config.get("image")) and not config.get("image"):
                failures.append(CheckFailure("config", "config.image is required"))
        timeout = inputs["wait_timeout_s"]
        if not is_unknown(timeout) and not (isinstance(timeout, int | float) and timeout > 0):
            failures.append(
                CheckFailure("wait_timeout_s", "wait_timeout_s must be a positive number of seconds")
            )
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        news = {**news, "config": desired_config(news.get("config"), news.get("owner"))}
        return diff_inputs(olds, news, DIFFED, replace_on=REPLACE_ON, delete_before_replace=True, equal=same)

    def create(self, props: dict[str, Any]) -> CreateResult:
        app, name, region = str(props["app_name"]), str(props["name"]), str(props["region"])
        owner = str(props["owner"])
        request = self._request(props)
        with self.client(name) as fly:

            def find(fresh: bool) -> MachineResponse | None:
                listed = listed_once(
                    (fly.base_url, app, "machines"), lambda: list_machines(fly, app), fresh=fresh
                )
                candidate = next((m for m in listed if self._ours(m, name, region, owner)), None)
                if candidate is None:
                    return None
                # The listing may be older than this run's own deletes: confirm before adopting.
                live = get_machine(fly, app, str(candidate["id"]))
                return live if live is not None and self._ours(live, name, region, owner) else None

            machine, adopted = create_or_adopt(find, lambda: launch_machine(fly, app, request))
            machine_id = str(machine["id"])
            progress.info(f"machine {name}: {'adopted' if adopted else 'created'} {machine_id} in {region}")
            try:
                if adopted and not same(project(machine.get("config"), request["config"]), request["config"]):
                    machine = update_machine(fly, app, machine_id, request)
                machine = self._settle(fly, props, machine)
            except FlyApiError as err:
                raise self._undo_create(fly, app, machine_id, err) from None
        return CreateResult(machine_id, self._outputs(props, machine))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app = str(props.get("app_name", ""))
        with self.client(str(props.get("name") or id_)) as fly:
            machine = get_machine(fly, app, id_)
        if machine is None:
            return gone()
        inputs = {key: props.get(key) for key in INPUTS}
        inputs["region"] = machine.get("region", inputs["region"])
        inputs["config"] = project(machine.get("config"), props.get("config"))
        return ReadResult(id_, self._outputs(inputs, machine), inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        app, name = str(news["app_name"]), str(news["name"])
        news = {**news, "config": desired_config(news.get("config"), news.get("owner"))}
        with self.client(name) as fly:
            machine = get_machine(fly, app, id_)
            if machine is None:
                raise fly.error(f"machine {id_} no longer exists in app {app}", Category.NOT_FOUND)
            changed = [k for k in ("config", "secrets_version") if not same(olds.get(k), news.get(k))]
            if not changed:
                return UpdateResult(self._outputs(news, machine))
            if machine.get("state") in RESTING_STATES:
                resting = self._request(news)
                resting["skip_launch"] = True
                machine = update_machine(fly, app, id_, resting)
                progress.info(
                    f"machine {name}: {id_} is at rest ({', '.join(changed)} applied without starting it; "
                    "it boots with the new config on the next request)"
                )
                return UpdateResult(self._outputs(news, machine))
            progress.info(f"machine {name}: updating {id_} in place ({', '.join(changed)})")
            machine = update_machine(fly, app, id_, self._request(news))
            try:
                machine = self._settle(fly, news, machine)
            except FlyApiError as err:
                raise self._put_back(fly, app, id_, olds, err) from None
        return UpdateResult(self._outputs(news, machine))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        app, name = str(props.get("app_name", "")), str(props.get("name") or id_)
        with self.client(name) as fly:
            if not destroy_machine(fly, app, id_):
                return
            timeout = float(props.get("wait_timeout_s") or DEFAULT_WAIT_S)
            wait_for_state(fly, app, id_, "destroyed", timeout_s=timeout)
            progress.info(f"machine {name}: destroyed {id_}")

    @staticmethod
    def _request(props: dict[str, Any]) -> LaunchMachineRequest:
        request = LaunchMachineRequest(
            name=str(props["name"]), region=str(props["region"]), config=dict(props["config"])
        )
        if props.get("secrets_version") is not None:
            request["min_secrets_version"] = int(props["secrets_version"])
        return request

    @staticmethod
    def _ours(machine: MachineResponse, name: str, region: str, owner: str) -> bool:
        """Made by an earlier attempt at this resource: its name and region, and this stack's owner id."""
        metadata = (machine.get("config") or {}).get("metadata") or {}
        return (
            machine.get("name") == name
            and machine.get("region") == region
            and metadata.get(OWNER_METADATA) == owner
            and machine.get("state") not in GONE_STATES
        )

    @staticmethod
    def _settle(fly: FlyClient, props: dict[str, Any], machine: MachineResponse) -> MachineResponse:
        """Wait until the machine runs the version just written, or rests when its services stop it when idle."""
        rests = rests_when_idle(props["config"])
        settled = wait_for_state(
            fly,
            str(props["app_name"]),
            str(machine["id"]),
            "started",
            timeout_s=float(props.get("wait_timeout_s") or DEFAULT_WAIT_S),
            also_accept=RESTING_STATES if rests else (),
            instance_id=machine.get("instance_id"),
        )
        result: MachineResponse = settled or machine  # type: ignore[assignment]
        progress.info(f"{fly.subject}: {result.get('state')}")
        return result

    @staticmethod
    def _undo_create(fly: FlyClient, app: str, machine_id: str, err: FlyApiError) -> FlyApiError:
        """The create failed after Fly accepted the machine: destroy it, so nothing runs that no state lists."""
        try:
            destroy_machine(fly, app, machine_id)
            wait_for_state(fly, app, machine_id, "destroyed", timeout_s=RECOVERY_WAIT_S)
        except FlyApiError as cleanup:
            return err.with_advice(
                f"{err.suggestion} The machine {machine_id} could not be destroyed again ({cleanup.fly_message}); "
                f"destroy it with fly machine destroy --force {machine_id} -a {app}, or run pulumi destroy."
            )
        progress.warn(f"{fly.subject}: {machine_id} did not start; destroyed it again")
        return err.with_advice(
            f"{err.suggestion} The machine {machine_id} was destroyed again, so nothing is left running that the "
            f"state does not list; fly logs -a {app} shows why it did not start."
        )

    def _put_back(
        self, fly: FlyClient, app: str, machine_id: str, olds: dict[str, Any], err: FlyApiError
    ) -> FlyApiError:
        """The update did not come up: restore the previous config, so Fly and the state agree again."""
        previous = {**olds, "config": dict(olds.get("config") or {})}
        try:
            restored = update_machine(fly, app, machine_id, self._request(previous))
            self._settle(fly, {**previous, "wait_timeout_s": RECOVERY_WAIT_S}, restored)
        except FlyApiError as rollback:
            return err.with_advice(
                f"{err.suggestion} Putting the machine back on its previous config failed as well "
                f"({rollback.fly_message}); fix the cause and run pulumi up again."
            )
        image = previous["config"].get("image", "its previous image")
        progress.warn(
            f"{fly.subject}: the update did not come up; {machine_id} runs its previous config again"
        )
        return err.with_advice(
            f"{err.suggestion} The machine {machine_id} was put back on its previous config ({image}) and runs "
            "again; the state still describes that config, so fix the change and run pulumi up again."
        )

    @staticmethod
    def _outputs(props: dict[str, Any], machine: MachineResponse) -> dict[str, Any]:
        outs = {key: props.get(key) for key in INPUTS}
        outs["config"] = desired_config(props.get("config"), props.get("owner"))
        outs.update(
            machine_id=machine.get("id"),
            state=machine.get("state", ""),
            instance_id=machine.get("instance_id", ""),
            private_ip=machine.get("private_ip", ""),
            region=machine.get("region", props.get("region")),
        )
        return outs


class Machine(pulumi.dynamic.Resource, module="fly", name="Machine"):
    """A Fly machine running `config` (the JSON `POST /apps/{app}/machines` takes) in one region."""

    app_name: pulumi.Output[str]
    machine_id: pulumi.Output[str]
    name: pulumi.Output[str]
    state: pulumi.Output[str]
    instance_id: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    region: pulumi.Output[str]
    config: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        resource_name: str,
        *,
        app_name: pulumi.Input[str],
        name: pulumi.Input[str],
        region: pulumi.Input[str],
        config: pulumi.Input[Mapping[str, Any]],
        owner: pulumi.Input[str],
        secrets_version: pulumi.Input[int] | None = None,
        wait_timeout_s: pulumi.Input[float] = DEFAULT_WAIT_S,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "owner": owner,
            "app_name": app_name,
            "name": name,
            "region": region,
            "config": config,
            "secrets_version": secrets_version,
            "wait_timeout_s": wait_timeout_s,
            "machine_id": None,
            "state": None,
            "instance_id": None,
            "private_ip": None,
        }
        super().__init__(MachineProvider(), resource_name, props, opts)
