"""Fly app: `POST /apps`, `GET /apps/{name}`, `DELETE /apps/{name}`.

The resource id is the app name. Names are global across Fly: creating one that exists in this org adopts it (a
re-run after a failure half way); one held elsewhere is an error that says so.
"""

from __future__ import annotations

import re
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from . import progress
from .api import FlyClient, segment
from .errors import Category
from .provider import FlyDiffResult, FlyProvider, diff_inputs, gone, is_unknown, plain

APP_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
INPUTS = ("name", "org_slug", "network")


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


def get_app(fly: FlyClient, name: str) -> AppResponse | None:
    """The app, or None when Fly says 404."""
    app: AppResponse | None = fly.get_json(f"/apps/{segment(name)}")
    return app


def find_app(fly: FlyClient, name: str) -> AppResponse | None:
    """Like get_app, but a 401/403 (how Fly answers for a name held in an org we cannot see) is "not ours":
    the create that follows then fails with Fly's own name_taken answer, or with the auth error it really is."""
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
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> FlyDiffResult:
        # Same name in another org cannot exist twice: the old app must go first.
        same_name = olds.get("name") == news.get("name")
        return diff_inputs(olds, news, INPUTS, replace_on=INPUTS, delete_before_replace=same_name)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, org = str(props["name"]), str(props["org_slug"])
        with self.client(name) as fly:
            app = find_app(fly, name)
            if app is not None and org_of(app) != org:
                raise fly.error(
                    f"an app named {name} already exists in organization {org_of(app) or 'unknown'}, "
                    f"not in {org}",
                    Category.NAME_TAKEN,
                )
            if app is None:
                request = CreateAppRequest(name=name, org_slug=org)
                if props.get("network"):
                    request["network"] = str(props["network"])
                create_app(fly, request)
                progress.info(f"app {name}: created in organization {org}")
                app = get_app(fly, name) or AppResponse(name=name, status="pending")
            else:
                progress.info(f"app {name}: already exists in organization {org}; adopted")
        return CreateResult(name, self._outputs(props, app))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with self.client(id_) as fly:
            app = get_app(fly, id_)
        if app is None:
            return gone()
        outs = self._outputs({**props, "name": app.get("name", id_), "org_slug": org_of(app)}, app)
        return ReadResult(id_, outs, {key: outs.get(key) for key in INPUTS})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Every app input forces a replacement; an update only records inputs that compare equal.
        return UpdateResult({**{key: news.get(key) for key in INPUTS}, "status": _olds.get("status")})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with self.client(id_) as fly:
            if delete_app(fly, id_):
                progress.info(f"app {id_}: deleted")

    @staticmethod
    def _outputs(props: dict[str, Any], app: AppResponse) -> dict[str, Any]:
        return {**{key: props.get(key) for key in INPUTS}, "status": app.get("status", "")}


class App(pulumi.dynamic.Resource, module="fly", name="App"):
    """A Fly app: the namespace that holds machines, volumes, IPs and secrets."""

    name: pulumi.Output[str]
    org_slug: pulumi.Output[str]
    network: pulumi.Output[str | None]
    status: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        org_slug: pulumi.Input[str],
        network: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "org_slug": org_slug, "network": network, "status": None}
        super().__init__(AppProvider(), resource_name, props, opts)
