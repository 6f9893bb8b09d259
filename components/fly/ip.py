"""Public IP assignment: `GET/POST /apps/{app}/ip_assignments`, `DELETE /apps/{app}/ip_assignments/{ip}`.

The resource id is the address. An address of the same type and region already on the app is adopted rather than
allocated twice (a dedicated v4 is billed; a first deploy has one v6 and one shared v4).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.adopt import create_or_adopt
from components.dynamic.compare import is_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone

from .api import FlyClient, segment
from .provider import FlyProvider, same

IP_TYPES = ("v6", "shared_v4", "v4")
INPUTS = ("app_name", "type", "region")
GLOBAL_REGIONS = ("", "global")


class AssignIpRequest(TypedDict):
    type: str
    region: NotRequired[str]


class IpAssignmentResponse(TypedDict, total=False):
    ip: str
    region: str
    service_name: str
    shared: bool
    type: str
    created_at: str


def _path(app: str) -> str:
    return f"/apps/{segment(app)}/ip_assignments"


def list_ips(fly: FlyClient, app: str) -> list[IpAssignmentResponse] | None:
    """The app's addresses; None when the app itself is gone."""
    body = fly.get_json(_path(app))
    if body is None:
        return None
    ips: list[IpAssignmentResponse] = body.get("ips", []) if isinstance(body, dict) else body
    return ips


def assign_ip(fly: FlyClient, app: str, request: AssignIpRequest) -> IpAssignmentResponse:
    response: IpAssignmentResponse = fly.send_json("POST", _path(app), dict(request))
    return response


def release_ip(fly: FlyClient, app: str, address: str) -> bool:
    return fly.delete(f"{_path(app)}/{segment(address)}")


def ip_type(assignment: IpAssignmentResponse) -> str:
    """The assignment's type as POST takes it; derived from the address where Fly does not say."""
    if assignment.get("type") in IP_TYPES:
        return str(assignment["type"])
    address = assignment.get("ip", "")
    if assignment.get("shared"):
        return "shared_v4"
    return "v6" if ":" in address else "v4"


def _matches(assignment: IpAssignmentResponse, kind: str, region: str | None) -> bool:
    if ip_type(assignment) != kind:
        return False
    where = assignment.get("region") or ""
    return where in GLOBAL_REGIONS if not region else where == region


class IpAssignmentProvider(FlyProvider):
    kind = "ip"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: plain(news.get(key)) for key in INPUTS}
        failures = []
        kind = inputs["type"]
        if not is_unknown(kind) and kind not in IP_TYPES:
            failures.append(CheckFailure("type", f"type {kind!r} must be one of {', '.join(IP_TYPES)}"))
        if not is_unknown(inputs["app_name"]) and not inputs["app_name"]:
            failures.append(CheckFailure("app_name", "app_name is required"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        return diff_inputs(olds, news, INPUTS, replace_on=INPUTS, equal=same)

    def create(self, props: dict[str, Any]) -> CreateResult:
        app, kind, region = str(props["app_name"]), str(props["type"]), props.get("region") or None
        label = f"{kind} in {app}"
        with self.client(label) as fly:

            def find(_fresh: bool) -> IpAssignmentResponse | None:
                return next((a for a in list_ips(fly, app) or [] if _matches(a, kind, region)), None)

            def assign() -> IpAssignmentResponse:
                request = AssignIpRequest(type=kind)
                if region:
                    request["region"] = region
                return assign_ip(fly, app, request)

            assignment, adopted = create_or_adopt(find, assign)
        address = assignment.get("ip", "")
        progress.info(f"ip {label}: {'adopted' if adopted else 'allocated'} {address}")
        return CreateResult(address, self._outputs(props, address))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app = str(props.get("app_name", ""))
        with self.client(id_) as fly:
            ips = list_ips(fly, app)
        found = next((a for a in ips or [] if a.get("ip") == id_), None)
        if found is None:
            return gone()
        kind, live_region = ip_type(found), found.get("region") or ""
        if _matches(found, kind, props.get("region")):
            region = props.get("region")
        else:  # global addresses report "global"; the input for those is no region at all
            region = None if live_region in GLOBAL_REGIONS else live_region
        inputs = {"app_name": app, "type": kind, "region": region}
        return ReadResult(id_, self._outputs(inputs, id_), inputs)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Every input forces a replacement; an update only records inputs that compare equal.
        return UpdateResult(self._outputs(news, id_))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(id_) as fly:
            if release_ip(fly, str(props.get("app_name", "")), id_):
                progress.info(f"ip {id_}: released")

    @staticmethod
    def _outputs(props: dict[str, Any], address: str) -> dict[str, Any]:
        return {**{key: props.get(key) for key in INPUTS}, "address": address}


class IpAssignment(pulumi.dynamic.Resource, module="fly", name="IpAssignment"):
    """A public address for the app: "v6", "shared_v4" (free) or a dedicated "v4"."""

    app_name: pulumi.Output[str]
    address: pulumi.Output[str]
    type: pulumi.Output[str]
    region: pulumi.Output[str | None]

    def __init__(
        self,
        resource_name: str,
        *,
        app_name: pulumi.Input[str],
        type: pulumi.Input[str],  # Fly's field name
        region: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"app_name": app_name, "type": type, "region": region, "address": None}
        super().__init__(IpAssignmentProvider(), resource_name, props, opts)
