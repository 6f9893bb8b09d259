"""Fly app: `POST /apps`, `GET /apps/{name}`, `DELETE /apps/{name}`.

The resource id is the app name. Names are global across Fly, so a name says nothing about who made an app.

Ownership. A Fly app carries no metadata, but it has one field that is set at creation, in the same request,
and reported back by every `GET /apps/{name}`: its private network (`network`). This stack creates its app on a
network named after its owner id (`songgen-<stack>-<digest of organization/project/stack>`), so:
- a re-run after a lost answer or a run cut short finds the app on its own network and adopts it;
- an app of the same name on any other network (another stack started from a copy of this stack file, an app
  made with flyctl, one made before this marker existed) is never adopted, updated or deleted: `up` stops
  before any write and names the stack that owns it.
A network of its own also keeps the stack's machines off the organisation's shared private network.
Everything inside the app (machines, volumes, addresses, secrets) belongs to the stack through the app; machines
carry the owner id in their metadata as well.

Deletion is where the stack's leftovers go: `DELETE /apps/{name}?force=true` removes everything in the app, so
before it the provider names whatever is still there, which the state did not list (a machine an interrupted
run created, a debug machine from `fly machine run`), then waits until the app is gone.
"""

from __future__ import annotations

import re
import time
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import ownership, progress
from components.dynamic.compare import is_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone
from components.dynamic.errors import ProviderError

from .api import FlyClient, segment
from .catalog import APP_NAME
from .errors import Category
from .provider import FlyProvider, same

INPUTS = ("name", "org_slug", "owner")
# The owner is a creation-time marker, never a reason to replace the app.
REPLACE_ON = ("name", "org_slug")
APP_NAME_SETTING = "songgen-studio:appName"
# Fly deletes an app's machines and volumes in the background; wait this long for the app to be gone.
GONE_WAIT_S = 120.0
OWNER_METADATA = "songgen_owner"


class CreateAppRequest(TypedDict):
    name: str
    org_slug: str
    network: NotRequired[str]


class AppOrganization(TypedDict, total=False):
    name: str
    slug: str


class AppResponse(TypedDict, total=False):
    id: str
    name: str
    status: str
    network: str
    organization: AppOrganization


def owner_network(owner: str) -> str:
    """The private network an app of this owner is created on (a DNS-label-safe name)."""
    return f"songgen-{ownership.slug(ownership.stack_of(owner), 30)}-{ownership.digest(owner)}"


def network_stack(network: str) -> str | None:
    """The stack name readable in an owner network, or None for any other network."""
    match = re.fullmatch(r"songgen-([a-z0-9-]+)-[0-9a-f]{10}", network or "")
    return match.group(1) if match else None


def get_app(fly: FlyClient, name: str) -> AppResponse | None:
    """The app, or None when Fly says 404."""
    app: AppResponse | None = fly.get_json(f"/apps/{segment(name)}")
    return None if app is None or app.get("status") == "destroyed" else app


def find_app(fly: FlyClient, name: str) -> AppResponse | None:
    """Like get_app, but a 403 (how Fly answers for a name held in an org we cannot see; older answers were 401)
    is "not ours": the create that follows then fails with Fly's own name_taken answer."""
    response = fly.call("GET", f"/apps/{segment(name)}", accept=(401, 403, 404))
    if response.status_code >= 400:
        return None
    app: AppResponse = response.json()
    return app


def create_app(fly: FlyClient, request: CreateAppRequest) -> None:
    fly.send_json("POST", "/apps", dict(request))


def delete_app(fly: FlyClient, name: str) -> bool:
    # force: an app whose machines still run is otherwise refused; deleting the app is the intent.
    return fly.delete(f"/apps/{segment(name)}", params={"force": "true"})


def org_of(app: AppResponse) -> str:
    return app.get("organization", {}).get("slug", "")


def not_ours(name: str, app: AppResponse, owner: str) -> ProviderError:
    """`up` stops here, before any write: the app of this name belongs to someone else."""
    holder = network_stack(app.get("network", ""))
    if holder is not None:
        whose = f"belongs to the stack {holder!r} (its private network is {app.get('network')})"
        fix = "Give this stack an app name of its own"
    else:
        whose = (
            f"was not made by any stack of this project (its private network is {app.get('network') or 'default'}:"
            " it was made with flyctl, or by a version that did not mark its apps)"
        )
        fix = f"Give this stack an app name of its own, or delete the old app (fly apps destroy {name}) if nobody needs it"
    return ProviderError(
        f"{APP_NAME_SETTING}: the Fly app {name} already exists and {whose}; this stack "
        f"({ownership.stack_of(owner)}) leaves it alone and changed nothing. {fix}: "
        f"pulumi config set appName <name>."
    )


class AppProvider(FlyProvider):
    kind = "app"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: plain(news.get(key)) for key in INPUTS}
        failures = []
        name = inputs["name"]
        if not is_unknown(name) and not (isinstance(name, str) and APP_NAME.match(name)):
            failures.append(
                CheckFailure(
                    "name",
                    f"app name {name!r} must be 1-63 lowercase letters, digits or dashes, "
                    "starting and ending with a letter or digit",
                )
            )
        org = inputs["org_slug"]
        if not is_unknown(org) and not (isinstance(org, str) and org):
            failures.append(CheckFailure("org_slug", "org_slug is required (see fly orgs list)"))
        owner = inputs["owner"]
        if not is_unknown(owner) and not (isinstance(owner, str) and owner.count("/") == 2):
            failures.append(CheckFailure("owner", "owner must be the stack's organization/project/stack"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        # Same name in another org cannot exist twice: the old app must go first.
        same_name = olds.get("name") == news.get("name")
        return diff_inputs(
            olds, news, REPLACE_ON, replace_on=REPLACE_ON, delete_before_replace=same_name, equal=same
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, org, owner = str(props["name"]), str(props["org_slug"]), str(props["owner"])
        network = owner_network(owner)
        with self.client(name) as fly:
            app = find_app(fly, name)
            if app is not None and org_of(app) != org:
                raise fly.error(
                    f"an app named {name} already exists in organization {org_of(app) or 'unknown'}, "
                    f"not in {org}",
                    Category.NAME_TAKEN,
                )
            if app is not None and app.get("network") != network:
                raise not_ours(name, app, owner)
            if app is None:
                create_app(fly, CreateAppRequest(name=name, org_slug=org, network=network))
                progress.info(f"app {name}: created in organization {org}")
                app = get_app(fly, name) or AppResponse(name=name, status="pending", network=network)
            else:
                progress.info(f"app {name}: made by this stack in an earlier run; adopted")
        return CreateResult(name, self._outputs(props, app))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(id_) as fly:
            app = get_app(fly, id_)
        if app is None or not self._same_app(props, app):
            return gone()
        outs = self._outputs({**props, "name": app.get("name", id_), "org_slug": org_of(app)}, app)
        return ReadResult(id_, outs, {key: outs.get(key) for key in INPUTS})

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Every app input that matters forces a replacement; an update only records the new inputs.
        return UpdateResult(
            {
                **{key: news.get(key) for key in INPUTS},
                "status": olds.get("status"),
                "network": olds.get("network"),
            }
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self.client(id_) as fly:
            app = get_app(fly, id_)
            if app is None:
                return
            if not self._same_app(props, app):
                progress.warn(
                    f"app {id_}: the app of this name is no longer the one this stack made (its private "
                    f"network is {app.get('network')}); left alone"
                )
                return
            self._name_leftovers(fly, id_, str(props.get("owner") or ""))
            if delete_app(fly, id_):
                self._wait_gone(fly, id_)
                progress.info(f"app {id_}: deleted, with everything in it")

    @staticmethod
    def _same_app(props: dict[str, Any], app: AppResponse) -> bool:
        """The live app is the one this stack made: on the network recorded at creation (apps recorded before
        the marker existed carry none, and are taken as the state says)."""
        recorded = props.get("network")
        return not recorded or app.get("network") == recorded

    @staticmethod
    def _name_leftovers(fly: FlyClient, app: str, owner: str) -> None:
        """Before the app goes, say what goes with it that the state did not list."""
        base = f"/apps/{segment(app)}"
        for machine in fly.get_json(f"{base}/machines") or []:
            if machine.get("state") in ("destroying", "destroyed"):
                continue
            metadata = (machine.get("config") or {}).get("metadata") or {}
            label = (
                f"machine {machine.get('id')} ({machine.get('name') or 'unnamed'}, {machine.get('state')})"
            )
            if owner and metadata.get(OWNER_METADATA) == owner:
                progress.warn(
                    f"app {app}: {label} was made by this stack but is not in its state (a run that was cut "
                    "short); it is removed with the app"
                )
            else:
                progress.warn(
                    f"app {app}: {label} was not made by this stack (e.g. fly machine run); it is removed "
                    "with the app"
                )
        for volume in fly.get_json(f"{base}/volumes") or []:
            if str(volume.get("state", "")).endswith("destroy") or volume.get("state") == "destroyed":
                continue
            progress.warn(
                f"app {app}: volume {volume.get('id')} ({volume.get('name')}, {volume.get('size_gb')} GB) is not "
                "in the state; it is removed with the app, and its data with it"
            )

    @staticmethod
    def _wait_gone(fly: FlyClient, app: str) -> None:
        deadline = time.monotonic() + GONE_WAIT_S
        while get_app(fly, app) is not None:
            if time.monotonic() >= deadline:
                raise fly.error(
                    f"app {app} was deleted but still exists after {GONE_WAIT_S:.0f} s",
                    Category.TIMEOUT,
                    "Check it with fly apps list; run pulumi destroy again to finish removing it.",
                )
            progress.status(f"app {app}: waiting for Fly to finish deleting it")
            time.sleep(1.0)

    @staticmethod
    def _outputs(props: dict[str, Any], app: AppResponse) -> dict[str, Any]:
        return {
            **{key: props.get(key) for key in INPUTS},
            "status": app.get("status", ""),
            "network": app.get("network", ""),
        }


class App(pulumi.dynamic.Resource, module="fly", name="App"):
    """A Fly app: the namespace that holds machines, volumes, IPs and secrets, on its stack's own network."""

    name: pulumi.Output[str]
    org_slug: pulumi.Output[str]
    owner: pulumi.Output[str]
    network: pulumi.Output[str]
    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        org_slug: pulumi.Input[str],
        owner: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "org_slug": org_slug, "owner": owner, "status": None, "network": None}
        super().__init__(AppProvider(), resource_name, props, opts)
