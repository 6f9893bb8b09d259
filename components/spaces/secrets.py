"""The Space's secrets (the HF token): `add_space_secret`, `delete_space_secret`, `get_space_secrets`.

The resource id is the Space's id. Values never leave this module except in the one request that sets each:
the outputs hold the sorted names, salted digests of our own that let `diff` tell which values changed, the
Hub's `updatedAt` per name that lets `read` tell a value was set outside Pulumi, and a version that goes up
with every change (rollout.py restarts the Space on it). No value is kept in the outputs; the digests are
Pulumi secrets all the same. The Hub never returns a secret's value.

Setting secrets restarts nothing on the Hub; rollout.py restarts the Space so they take effect.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

import pulumi
from huggingface_hub import HfApi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.compare import contains_unknown, is_unknown, plain, same
from components.dynamic.diff import KeyedDiff, gone

from .hub import Hub
from .provider import SpacesProvider
from .variables import ENV_NAME, delete_quietly


def digest(salt: str, name: str, value: str) -> str:
    return hmac.new(salt.encode(), f"{name}\0{value}".encode(), hashlib.sha256).hexdigest()


def _values(props: Mapping[str, Any]) -> dict[str, str]:
    values = props.get("values")
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, Mapping) else {}


def updated_at(hub: Hub, repo_id: str) -> dict[str, str] | None:
    """When the Hub last saw each secret set; None when the Space is gone."""
    listed = hub.find("space secrets", lambda api: api.get_space_secrets(repo_id))
    if listed is None:
        return None
    return {key: s.updated_at.isoformat() if s.updated_at else "" for key, s in listed.items()}


class SpaceSecretsProvider(SpacesProvider):
    kind = "secrets"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {"repo_id": plain(news.get("repo_id")), "values": plain(news.get("values"))}
        failures = []
        values = inputs["values"]
        if isinstance(values, Mapping):
            for name, value in values.items():
                if not re.fullmatch(ENV_NAME, str(name)):
                    failures.append(
                        CheckFailure("values", f"secret name {name!r} is not an environment name")
                    )
                elif not is_unknown(value) and not isinstance(value, str):
                    failures.append(
                        CheckFailure("values", f"secret {name} must be a string")
                    )  # never the value
        elif not is_unknown(values):
            failures.append(CheckFailure("values", "values must map secret names to strings"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        replaces = [] if same(olds.get("repo_id"), news.get("repo_id")) else ["repo_id"]
        if is_unknown(news.get("values")):
            return KeyedDiff([*replaces, "values"], replaces)
        salt, digests, values = (
            str(olds.get("digest_salt", "")),
            dict(olds.get("digests") or {}),
            _values(news),
        )
        changed = [
            f"values.{name}"
            for name in sorted(set(digests) | set(values))
            if name not in values
            or contains_unknown(news["values"][name])
            or digests.get(name) != digest(salt, name, values[name])
        ]
        return KeyedDiff([*replaces, *changed], replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        repo_id, values = str(props["repo_id"]), _values(props)
        hub = self.connect(repo_id, redact=values.values())
        self._set(hub, repo_id, values)
        salt = os.urandom(16).hex()
        return CreateResult(repo_id, self._outputs(repo_id, values, salt, updated_at(hub, repo_id) or {}, 1))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        live = updated_at(self.connect(id_), id_)
        if live is None:
            return gone()
        known = dict(props.get("updated") or {})
        # A secret removed, or set again outside Pulumi, loses our digest, so the next diff sets it again.
        digests = {
            name: ours
            for name, ours in dict(props.get("digests") or {}).items()
            if name in live and known.get(name) == live[name]
        }
        outs = {**props, "digests": digests, "updated": {n: live[n] for n in digests}}
        return ReadResult(id_, outs, None)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        repo_id, values = str(news["repo_id"]), _values(news)
        salt, digests = str(olds.get("digest_salt", "")), dict(olds.get("digests") or {})
        changed = {n: v for n, v in values.items() if digests.get(n) != digest(salt, n, v)}
        removed = sorted(set(digests) - set(values))
        hub = self.connect(repo_id, redact=values.values())
        self._set(hub, repo_id, changed)
        for name in removed:
            delete_quietly(
                hub, "secret delete", partial(HfApi.delete_space_secret, repo_id=repo_id, key=name)
            )
        if removed:
            progress.info(f"secrets {repo_id}: removed {', '.join(removed)}")
        version = int(olds.get("version") or 0) + (1 if changed or removed else 0)
        updated = updated_at(hub, repo_id) or {}
        return UpdateResult(self._outputs(repo_id, values, salt, updated, version))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        hub = self.connect(id_)
        for name in sorted(props.get("keys") or []):
            delete_quietly(hub, "secret delete", partial(HfApi.delete_space_secret, repo_id=id_, key=name))

    @staticmethod
    def _set(hub: Hub, repo_id: str, values: Mapping[str, str]) -> None:
        for name, value in sorted(values.items()):
            hub.call("secret set", partial(HfApi.add_space_secret, repo_id=repo_id, key=name, value=value))
        if values:
            progress.info(f"secrets {repo_id}: set {', '.join(sorted(values))}")

    @staticmethod
    def _outputs(
        repo_id: str, values: Mapping[str, str], salt: str, updated: Mapping[str, str], version: int
    ) -> dict[str, Any]:
        return {
            "repo_id": repo_id,
            "keys": sorted(values),
            "digest_salt": salt,
            "digests": {name: digest(salt, name, value) for name, value in values.items()},
            "updated": {name: updated.get(name, "") for name in values},
            "version": version,
        }


class SpaceSecrets(pulumi.dynamic.Resource, module="spaces", name="SpaceSecrets"):
    """The Space's secrets (environment variables only its code sees). Values are Pulumi secrets, never outputs."""

    keys: pulumi.Output[list[str]]
    version: pulumi.Output[int]

    def __init__(
        self,
        resource_name: str,
        *,
        repo_id: str,
        values: pulumi.Input[Mapping[str, pulumi.Input[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "repo_id": repo_id,
            "values": pulumi.Output.secret(values),
            "keys": None,
            "digest_salt": None,
            "digests": None,
            "updated": None,
            "version": None,
        }
        secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["values", "digests"])
        super().__init__(
            SpaceSecretsProvider(), resource_name, props, pulumi.ResourceOptions.merge(opts, secret_outputs)
        )
