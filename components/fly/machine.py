"""Fly machine: `POST /apps/{app}/machines`, `GET/POST/DELETE /apps/{app}/machines/{id}`, `GET .../wait`.

The resource id is the machine id. A new region or name replaces the machine (Fly's update cannot change either;
the old one is destroyed first: one volume, one name). Any other change (image, guest, env, services, checks, mounts, metadata, secrets version) is an in-place
update with the full config, followed by a wait until the machine runs again (or rests, when its services stop it
when idle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from . import credentials, progress
from .api import FlyClient, segment
from .errors import SUGGESTIONS, Category
from .provider import (
    FlyDiffResult,
    FlyProvider,
    create_or_adopt,
    diff_inputs,
    gone,
    is_unknown,
    plain,
    project,
    same,
    to_wire,
)
from .wait import GONE_STATES, machine_path, wait_for_state

INPUTS = ("app_name", "name", "region", "config", "secrets_version", "wait_timeout_s")
REPLACE_ON = ("app_name", "name", "region")
DEFAULT_WAIT_S = 600
# flyctl lists only machines that carry these (fly-go machine_types.go); ours come last so flyctl always sees them.
PLATFORM_METADATA = {"fly_platform_version": "v2", "fly_process_group": "app"}
# How a re-run recognises a machine an earlier attempt made: its name plus this marker.
MANAGED_BY = ("managed_by", "pulumi")
RESTING_STATES = ("stopped", "suspended")


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


def desired_config(config: Any) -> Any:
    """The config as we send it: the caller's metadata plus the markers flyctl and re-runs rely on."""
    if not isinstance(config, Mapping):
        return config
    metadata = config.get("metadata")
    if is_unknown(metadata):
        return dict(config)
    merged = {**dict(metadata or {}), MANAGED_BY[0]: MANAGED_BY[1], **PLATFORM_METADATA}
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
        inputs["config"] = desired_config(inputs["config"])
        failures = []
        for key in ("app_name", "name", "region"):
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
        if has_gpu(config) and credentials.is_fly(credentials.base_url()):
            # Say it in the preview, before anything is created.
            progress.warn(f"machine {inputs['name']}: {SUGGESTIONS[Category.GPU]}")
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> FlyDiffResult:
        olds = {**olds, "config": desired_config(olds.get("config"))}
        news = {**news, "config": desired_config(news.get("config"))}
        return diff_inputs(olds, news, INPUTS, replace_on=REPLACE_ON, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        app, name, region = str(props["app_name"]), str(props["name"]), str(props["region"])
        request = self._request(props)
        with self.client(name) as fly:

            def find() -> MachineResponse | None:
                return next((m for m in list_machines(fly, app) if self._ours(m, name, region)), None)

            machine, adopted = create_or_adopt(find, lambda: launch_machine(fly, app, request))
            machine_id = str(machine["id"])
            progress.info(f"machine {name}: {'adopted' if adopted else 'created'} {machine_id} in {region}")
            if adopted and not same(project(machine.get("config"), request["config"]), request["config"]):
                machine = update_machine(fly, app, machine_id, request)
            machine = self._settle(fly, props, machine)
        return CreateResult(machine_id, self._outputs(props, machine))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app = str(props.get("app_name", ""))
        with self.client(str(props.get("name") or id_)) as fly:
            machine = get_machine(fly, app, id_)
        if machine is None:
            return gone()
        inputs = {key: props.get(key) for key in INPUTS}
        inputs["region"] = machine.get("region", inputs["region"])
        inputs["config"] = project(machine.get("config"), desired_config(props.get("config")))
        return ReadResult(id_, self._outputs(inputs, machine), inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        app, name = str(news["app_name"]), str(news["name"])
        with self.client(name) as fly:
            machine = get_machine(fly, app, id_)
            if machine is None:
                raise fly.error(f"machine {id_} no longer exists in app {app}", Category.NOT_FOUND)
            changed = [k for k in ("config", "secrets_version") if not same(olds.get(k), news.get(k))]
            if changed:
                progress.info(f"machine {name}: updating {id_} in place ({', '.join(changed)})")
                machine = update_machine(fly, app, id_, self._request(news))
                machine = self._settle(fly, news, machine)
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
            name=str(props["name"]), region=str(props["region"]), config=desired_config(props["config"])
        )
        if props.get("secrets_version") is not None:
            request["min_secrets_version"] = int(props["secrets_version"])
        return request

    @staticmethod
    def _ours(machine: MachineResponse, name: str, region: str) -> bool:
        """Made by an earlier attempt at this resource: its name and region, and our marker."""
        metadata = (machine.get("config") or {}).get("metadata") or {}
        return (
            machine.get("name") == name
            and machine.get("region") == region
            and metadata.get(MANAGED_BY[0]) == MANAGED_BY[1]
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
    def _outputs(props: dict[str, Any], machine: MachineResponse) -> dict[str, Any]:
        outs = {key: props.get(key) for key in INPUTS}
        outs["config"] = desired_config(props.get("config"))
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
        secrets_version: pulumi.Input[int] | None = None,
        wait_timeout_s: pulumi.Input[float] = DEFAULT_WAIT_S,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
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
