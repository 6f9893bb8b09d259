"""App secrets: `GET/POST /apps/{app}/secrets` with `{values: {NAME: value or null}}` (null unsets).

The resource id is the app name. Values never leave this module except in the one request that sets them: the
outputs hold the sorted names, Fly's secrets version, salted digests of our own that let `diff` tell which values
changed, and Fly's digests that let `read` tell a value changed outside Pulumi. No value is kept in the outputs;
both digest maps are Pulumi secrets all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.compare import contains_unknown, is_unknown, plain
from components.dynamic.diff import KeyedDiff, gone

from .api import FlyClient, segment
from .provider import FlyProvider, same

SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UpdateSecretsRequest(TypedDict):
    values: dict[str, str | None]


class AppSecret(TypedDict, total=False):
    name: str
    digest: str


class SecretsResponse(TypedDict, total=False):
    secrets: list[AppSecret]
    version: int


def _path(app: str) -> str:
    return f"/apps/{segment(app)}/secrets"


def list_secrets(fly: FlyClient, app: str) -> SecretsResponse | None:
    """Names (never values) and digests; None when the app is gone."""
    body = fly.get_json(_path(app))
    if body is None:
        return None
    if isinstance(body, list):  # some API versions answer with the bare list
        return SecretsResponse(secrets=body)
    listed: SecretsResponse = body
    return listed


def update_secrets(fly: FlyClient, app: str, values: Mapping[str, str | None]) -> SecretsResponse:
    # Setting the same values again is harmless, so a lost answer may be retried.
    request = UpdateSecretsRequest(values=dict(values))
    response: SecretsResponse = fly.send_json("POST", _path(app), request, idempotent=True)
    return response


def fly_digests(response: SecretsResponse, names: Iterable[str]) -> dict[str, str]:
    """Fly's digest of each of our secrets, as the API lists them."""
    wanted = set(names)
    return {s["name"]: s.get("digest", "") for s in response.get("secrets", []) if s.get("name") in wanted}


def digest(salt: str, name: str, value: str) -> str:
    return hmac.new(salt.encode(), f"{name}\0{value}".encode(), hashlib.sha256).hexdigest()


def managed_names(props: Mapping[str, Any]) -> set[str]:
    """The names this resource set, including one whose value was changed outside Pulumi."""
    return {*(props.get("keys") or []), *(props.get("digests") or {})}


def _values(props: Mapping[str, Any]) -> dict[str, Any]:
    values = props.get("values")
    return dict(values) if isinstance(values, Mapping) else {}


class AppSecretsProvider(FlyProvider):
    kind = "secrets"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {"app_name": plain(news.get("app_name")), "values": plain(news.get("values"))}
        failures = []
        values = inputs["values"]
        if not is_unknown(values):
            if not isinstance(values, Mapping):
                failures.append(CheckFailure("values", "values must map secret names to strings"))
            else:
                for name, value in values.items():
                    if not SECRET_NAME.match(name):
                        failures.append(
                            CheckFailure("values", f"secret name {name!r} is not a valid env name")
                        )
                    elif not is_unknown(value) and not isinstance(value, str):
                        # Say which name, never the value.
                        failures.append(CheckFailure("values", f"secret {name} must be a string"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        replaces = [] if same(olds.get("app_name"), news.get("app_name")) else ["app_name"]
        values = news.get("values")
        if is_unknown(values):
            return KeyedDiff([*replaces, "values"], replaces, False)
        salt, digests = str(olds.get("digest_salt", "")), dict(olds.get("digests") or {})
        changed = [
            f"values.{name}"
            for name in sorted(set(digests) | set(_values(news)))
            if name not in _values(news)
            or contains_unknown(_values(news)[name])
            or digests.get(name) != digest(salt, name, str(_values(news)[name]))
        ]
        return KeyedDiff([*replaces, *changed], replaces, False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        app, values = str(props["app_name"]), _values(props)
        with self.client(app, redact=values.values()) as fly:
            response = update_secrets(fly, app, values)
        progress.info(f"secrets {app}: set {len(values)} ({', '.join(sorted(values))})")
        salt = os.urandom(16).hex()
        outs = self._outputs(app, values, salt, response.get("version"), fly_digests(response, values))
        return CreateResult(app, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        app = str(props.get("app_name") or id_)
        with self.client(app) as fly:
            listed = list_secrets(fly, app)
        if listed is None:
            return gone()
        live = fly_digests(listed, managed_names(props))
        known = dict(props.get("fly_digests") or {})
        # A name unset, or a value changed, outside Pulumi loses our digest, so the next diff sets it again.
        digests = {
            name: ours
            for name, ours in dict(props.get("digests") or {}).items()
            if name in live and (name not in known or not live[name] or known[name] == live[name])
        }
        outs = {
            **props,
            "digests": digests,
            "fly_digests": {name: live[name] for name in digests},
            "keys": sorted(live),
            "version": listed.get("version", props.get("version")),
        }
        # The values are not readable back from Fly, so the recorded inputs stay as they are.
        return ReadResult(id_, outs, None)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        app, values = str(news["app_name"]), _values(news)
        salt, digests = str(olds.get("digest_salt", "")), dict(olds.get("digests") or {})
        changes: dict[str, str | None] = {
            name: value for name, value in values.items() if digests.get(name) != digest(salt, name, value)
        }
        changes.update({name: None for name in digests if name not in values})
        version, known = olds.get("version"), dict(olds.get("fly_digests") or {})
        if changes:
            with self.client(app, redact=values.values()) as fly:
                response = update_secrets(fly, app, changes)
            version = response.get("version", version)
            known = fly_digests(response, values)
            unset = sorted(k for k, v in changes.items() if v is None)
            progress.info(
                f"secrets {app}: set {sorted(k for k, v in changes.items() if v is not None)}, unset {unset}"
            )
        return UpdateResult(self._outputs(app, values, salt, version, known))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        app, names = str(props.get("app_name") or id_), sorted(managed_names(props))
        if not names:
            return
        with self.client(app) as fly:
            request = UpdateSecretsRequest(values=dict.fromkeys(names))
            response = fly.call("POST", _path(app), body=request, accept=(404,), idempotent=True)
        if response.status_code == 404:
            return  # the app, and its secrets with it, are gone already
        progress.info(f"secrets {app}: unset {', '.join(sorted(names))}")

    @staticmethod
    def _outputs(
        app: str, values: Mapping[str, str], salt: str, version: Any, known: Mapping[str, str]
    ) -> dict[str, Any]:
        return {
            "app_name": app,
            "keys": sorted(values),
            "version": version,
            "digest_salt": salt,
            "digests": {name: digest(salt, name, value) for name, value in values.items()},
            "fly_digests": {name: known[name] for name in values if name in known},
        }


class AppSecrets(pulumi.dynamic.Resource, module="fly", name="AppSecrets"):
    """The app's secrets (exposed to machines as env vars). Values are Pulumi secrets and never outputs."""

    app_name: pulumi.Output[str]
    keys: pulumi.Output[list[str]]
    version: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        app_name: pulumi.Input[str],
        values: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "app_name": app_name,
            "values": pulumi.Output.secret(values),
            "keys": None,
            "version": None,
            "digest_salt": None,
            "digests": None,
            "fly_digests": None,
        }
        secret_outputs = pulumi.ResourceOptions(
            additional_secret_outputs=["values", "digests", "fly_digests"]
        )
        super().__init__(
            AppSecretsProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret_outputs)
        )
