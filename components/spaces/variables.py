"""The Space's variables: the entrypoint's environment and the image's build arguments (the upstream pins).

Calls: `add_space_variable` (sets or replaces one), `delete_space_variable`, `get_space_variables`. The
resource id is the Space's id. It manages only the keys it set: the Space's marker (SONGGEN_OWNER, space.py)
and any variable added by hand are left alone. Values are not secret (secrets.py holds the token).

Setting variables restarts nothing on the Hub; rollout.py restarts (or, for a new pin, rebuilds) the Space so
they take effect. Diff: any changed, added or removed key is an in-place update; a new Space replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import pulumi
from huggingface_hub import HfApi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import progress
from components.dynamic.compare import contains_unknown, is_unknown, plain, same
from components.dynamic.diff import KeyedDiff, gone

from .catalog import OWNER_VARIABLE
from .errors import Category, SpacesError
from .hub import Hub
from .provider import SpacesProvider

ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def _values(props: Mapping[str, Any]) -> dict[str, str]:
    values = props.get("values")
    return {str(k): str(v) for k, v in values.items()} if isinstance(values, Mapping) else {}


def delete_quietly(hub: Hub, operation: str, delete: Callable[[HfApi], object]) -> None:
    """Delete one key; a key or a Space already gone is what deleting wanted."""
    try:
        hub.call(operation, delete)
    except SpacesError as err:
        if err.category != Category.NOT_FOUND:
            raise


class SpaceVariablesProvider(SpacesProvider):
    kind = "variables"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {"repo_id": plain(news.get("repo_id")), "values": plain(news.get("values"))}
        failures = []
        values = inputs["values"]
        if not is_unknown(values) and isinstance(values, Mapping):
            for key in values:
                if not re.fullmatch(ENV_NAME, str(key)):
                    failures.append(CheckFailure("values", f"{key!r} is not an environment variable name"))
                elif key == OWNER_VARIABLE:
                    failures.append(
                        CheckFailure("values", f"{OWNER_VARIABLE} is the Space's marker (space.py)")
                    )
        elif not is_unknown(values):
            failures.append(CheckFailure("values", "values must map variable names to strings"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        replaces = [] if same(olds.get("repo_id"), news.get("repo_id")) else ["repo_id"]
        if contains_unknown(news.get("values")):
            return KeyedDiff([*replaces, "values"], replaces)
        old, new = _values(olds), _values(news)
        changed = [f"values.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        return KeyedDiff([*replaces, *changed], replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        repo_id, values = str(props["repo_id"]), _values(props)
        self._set(self.connect(repo_id), repo_id, values, {})
        return CreateResult(repo_id, {"repo_id": repo_id, "values": values})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        hub = self.connect(id_)
        live = hub.find("space variables", lambda api: api.get_space_variables(id_))
        if live is None:
            return gone()
        # A key changed or removed outside Pulumi shows as such, so the next diff puts it back.
        values = {k: live[k].value for k in _values(props) if k in live}
        outs = {"repo_id": id_, "values": values}
        return ReadResult(id_, outs, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        repo_id, values = str(news["repo_id"]), _values(news)
        self._set(self.connect(repo_id), repo_id, values, _values(olds))
        return UpdateResult({"repo_id": repo_id, "values": values})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        hub = self.connect(id_)
        for key in sorted(_values(props)):
            delete_quietly(hub, "variable delete", partial(HfApi.delete_space_variable, repo_id=id_, key=key))

    @staticmethod
    def _set(hub: Hub, repo_id: str, values: dict[str, str], old: dict[str, str]) -> None:
        changed = {k: v for k, v in values.items() if old.get(k) != v}
        for key, value in sorted(changed.items()):
            hub.call("variable set", partial(HfApi.add_space_variable, repo_id=repo_id, key=key, value=value))
        removed = sorted(set(old) - set(values))
        for key in removed:
            delete_quietly(
                hub, "variable delete", partial(HfApi.delete_space_variable, repo_id=repo_id, key=key)
            )
        if changed or removed:
            progress.info(
                f"variables {repo_id}: set {', '.join(sorted(changed)) or 'none'}; removed {', '.join(removed) or 'none'}"
            )


class SpaceVariables(pulumi.dynamic.Resource, module="spaces", name="SpaceVariables"):
    """Variables of the Space that the stack owns: environment and build arguments."""

    values: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        resource_name: str,
        *,
        repo_id: str,
        values: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            SpaceVariablesProvider(), resource_name, {"repo_id": repo_id, "values": dict(values)}, opts
        )
