"""The Space: a repo of type space with the docker SDK, its hardware, its sleep time and its privacy.

Calls: `space_info` (look and read), `create_repo(repo_type="space", space_sdk="docker", space_hardware=,
space_sleep_time=, private=, space_variables=)`, `request_space_hardware`, `set_space_sleep_time`,
`update_repo_settings(private=)`, `get_space_variables` (the marker), `delete_repo`.

The resource id is the Space's id, `<namespace>/<name>`. A new Space runs nothing (NO_APP_FILE) and bills
nothing until its files arrive (files.py).

Diff: a new namespace or name replaces the Space (a repo cannot be renamed here); hardware, sleep time and
privacy change in place. A hardware change restarts a running Space on the Hub's side; rollout.py waits for it.

Ownership. A Space is this stack's when its variable SONGGEN_OWNER holds the stack's owner id
(`<organization>/<project>/<stack>`). The variable is set in the same request that creates the Space, so no
Space of this stack ever lacks it, and variables.py never touches it. Before creating, the provider looks:
- a Space of that id with this stack's marker (an earlier run whose answer was lost, or a run cut short) is
  adopted, and its hardware, sleep time and privacy are set to the stack's;
- any other Space of that id (another stack started from a copy of this stack file, a Space made by hand, one
  this token cannot manage) is never adopted, changed or deleted: `up` stops before any write and says whose
  it is and which setting to change.
`read` and `delete` leave alone a Space whose marker names another owner (it was deleted and made again by
someone else); a Space whose marker was removed by hand is still taken as the state says.
"""

from __future__ import annotations

from typing import Any

import pulumi
from huggingface_hub import HfApi, SpaceHardware, SpaceInfo
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, UpdateResult

from components.dynamic import ownership, progress
from components.dynamic.adopt import create_or_adopt
from components.dynamic.compare import is_unknown, plain
from components.dynamic.diff import KeyedDiff, diff_inputs, gone
from components.dynamic.errors import ProviderError

from .catalog import HUB_NAME, OWNER_VARIABLE
from .errors import Category, SpacesError
from .hub import Hub
from .provider import SpacesProvider

INPUTS = ("repo_id", "hardware", "sleep_seconds", "private", "owner")
IN_PLACE = ("hardware", "sleep_seconds", "private")
NAME_SETTING = "songgen-studio:spaceName"
NEVER = -1


def settings_url(hub: Hub, repo_id: str) -> str:
    return f"{hub.endpoint}/spaces/{repo_id}/settings"


def owner_marker(hub: Hub, repo_id: str) -> str | None:
    """The SONGGEN_OWNER variable of the Space; None when it has none. Raises not-ours when unreadable."""
    try:
        variables = hub.call("space variables", lambda api: api.get_space_variables(repo_id))
    except SpacesError as err:
        if err.category in (Category.FORBIDDEN, Category.AUTH, Category.NOT_FOUND):
            raise hub.error(
                f"the Space {repo_id} exists and this token cannot manage it ({err.hub_message})",
                Category.NOT_OURS,
                f"Give this stack a Space of its own: pulumi config set spaceName <name> ({NAME_SETTING}).",
            ) from None
        raise
    marker = variables.get(OWNER_VARIABLE)
    return marker.value if marker is not None else None


def not_ours(hub: Hub, repo_id: str, marker: str | None, owner: str) -> ProviderError:
    """`up` stops here, before any write: the Space of this id belongs to someone else."""
    if marker:
        whose = (
            f"belongs to the stack {ownership.stack_of(marker)!r} (its {OWNER_VARIABLE} variable is {marker})"
        )
        fix = "Give this stack a Space of its own"
    else:
        whose = (
            f"was not made by any stack of this project (it has no {OWNER_VARIABLE} variable: it was made by "
            "hand or by another tool)"
        )
        fix = (
            f"Give this stack a Space of its own, or delete that Space ({settings_url(hub, repo_id)}) if nobody "
            "needs it"
        )
    return ProviderError(
        f"{NAME_SETTING}: the Space {repo_id} already exists and {whose}; this stack "
        f"({ownership.stack_of(owner)}) leaves it alone and changed nothing. {fix}: pulumi config set "
        "spaceName <name>."
    )


def sleep_of(info: SpaceInfo) -> int:
    runtime = info.runtime
    seconds = runtime.sleep_time if runtime is not None else None
    return NEVER if seconds is None else int(seconds)


def hardware_of(info: SpaceInfo) -> str | None:
    runtime = info.runtime
    requested = runtime.requested_hardware if runtime is not None else None
    return str(requested.value if isinstance(requested, SpaceHardware) else requested) if requested else None


class SpaceProvider(SpacesProvider):
    kind = "space"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: plain(news.get(key)) for key in INPUTS}
        failures = []
        repo_id = inputs["repo_id"]
        if not is_unknown(repo_id) and not (
            isinstance(repo_id, str)
            and len(parts := repo_id.split("/")) == 2
            and all(HUB_NAME.fullmatch(p) for p in parts)
        ):
            failures.append(CheckFailure("repo_id", f"{repo_id!r} is not a Space id (<namespace>/<name>)"))
        sleep = inputs["sleep_seconds"]
        if not is_unknown(sleep) and not (isinstance(sleep, int | float) and (sleep == NEVER or sleep > 0)):
            failures.append(CheckFailure("sleep_seconds", "sleep_seconds must be positive, or -1 for never"))
        owner = inputs["owner"]
        if not is_unknown(owner) and not (isinstance(owner, str) and owner.count("/") == 2):
            failures.append(CheckFailure("owner", "owner must be the stack's organization/project/stack"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> KeyedDiff:
        # The owner is a creation-time marker, never a reason to change the Space.
        return diff_inputs(olds, news, ("repo_id", *IN_PLACE), replace_on=("repo_id",))

    def create(self, props: dict[str, Any]) -> CreateResult:
        repo_id, owner = str(props["repo_id"]), str(props["owner"])
        hub = self.connect(repo_id)

        def find(_fresh: bool) -> SpaceInfo | None:
            info = hub.find("space lookup", lambda api: api.space_info(repo_id))
            if info is None:
                return None
            marker = owner_marker(hub, repo_id)
            if marker != owner:
                raise not_ours(hub, repo_id, marker, owner)
            progress.info(f"space {repo_id}: made by this stack in an earlier run; adopted")
            self._apply(hub, repo_id, info, props)
            return info

        def create() -> SpaceInfo:
            hub.call("space create", lambda api: self._create(api, props), idempotent=False)
            progress.info(
                f"space {repo_id}: created ({props['hardware']}, {'private' if props['private'] else 'public'})"
            )
            return hub.call("space lookup", lambda api: api.space_info(repo_id))

        info, _adopted = create_or_adopt(find, create)
        return CreateResult(repo_id, self._outputs(props, info))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        hub = self.connect(id_)
        info = hub.find("space lookup", lambda api: api.space_info(id_))
        if info is None or self._someone_elses(hub, id_, props):
            return gone()
        live = {
            **props,
            "repo_id": id_,
            "hardware": hardware_of(info) or props.get("hardware"),
            "sleep_seconds": sleep_of(info),
            "private": bool(info.private),
        }
        outs = self._outputs(live, info)
        return ReadResult(id_, outs, {key: outs.get(key) for key in INPUTS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        hub = self.connect(id_)
        info = hub.call("space lookup", lambda api: api.space_info(id_))
        self._apply(hub, id_, info, news)
        return UpdateResult(self._outputs(news, hub.call("space lookup", lambda api: api.space_info(id_))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        hub = self.connect(id_)
        info = hub.find("space lookup", lambda api: api.space_info(id_))
        if info is None:
            return
        if self._someone_elses(hub, id_, props):
            progress.warn(
                f"space {id_}: no longer the Space this stack made (another owner's marker); left alone"
            )
            return
        hub.call(
            "space delete",
            lambda api: api.delete_repo(id_, repo_type="space", missing_ok=True),
            idempotent=True,
        )
        progress.info(f"space {id_}: deleted, with its files, secrets and variables")

    @staticmethod
    def _create(api: HfApi, props: dict[str, Any]) -> None:
        api.create_repo(
            str(props["repo_id"]),
            repo_type="space",
            space_sdk="docker",
            space_hardware=SpaceHardware(str(props["hardware"])),
            space_sleep_time=int(props["sleep_seconds"]),
            private=bool(props["private"]),
            space_variables=[{"key": OWNER_VARIABLE, "value": str(props["owner"])}],
        )

    @staticmethod
    def _apply(hub: Hub, repo_id: str, info: SpaceInfo, want: dict[str, Any]) -> None:
        """Bring hardware, sleep time and privacy to what the stack says; only what differs is called."""
        hardware, sleep = str(want["hardware"]), int(want["sleep_seconds"])
        if hardware_of(info) != hardware:
            hub.call(
                "space hardware",
                lambda api: api.request_space_hardware(repo_id, SpaceHardware(hardware), sleep_time=sleep),
            )
            progress.info(
                f"space {repo_id}: hardware {hardware_of(info)} -> {hardware} (the Hub restarts it)"
            )
        elif sleep_of(info) != sleep:
            hub.call("space sleep time", lambda api: api.set_space_sleep_time(repo_id, sleep))
            progress.info(f"space {repo_id}: sleeps after {sleep} s without a visit")
        private = bool(want["private"])
        if bool(info.private) != private:
            hub.call(
                "space visibility",
                lambda api: api.update_repo_settings(repo_id, repo_type="space", private=private),
            )
            progress.info(f"space {repo_id}: now {'private' if private else 'public'}")

    @staticmethod
    def _someone_elses(hub: Hub, repo_id: str, props: dict[str, Any]) -> bool:
        try:
            marker = owner_marker(hub, repo_id)
        except SpacesError as err:
            if err.category == Category.NOT_OURS:
                return True
            raise
        return marker is not None and marker != props.get("owner")

    @staticmethod
    def _outputs(props: dict[str, Any], info: SpaceInfo) -> dict[str, Any]:
        host = getattr(info, "host", None) or f"https://{getattr(info, 'subdomain', '')}.hf.space"
        return {
            **{key: props.get(key) for key in INPUTS},
            "host": host,
            "subdomain": getattr(info, "subdomain", "") or "",
        }


class Space(pulumi.dynamic.Resource, module="spaces", name="Space"):
    """A Docker Space on the Hugging Face Hub, marked as this stack's."""

    repo_id: pulumi.Output[str]
    hardware: pulumi.Output[str]
    host: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        repo_id: str,
        hardware: str,
        sleep_seconds: int,
        private: bool,
        owner: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "repo_id": repo_id,
            "hardware": hardware,
            "sleep_seconds": sleep_seconds,
            "private": private,
            "owner": owner,
            "host": None,
            "subdomain": None,
        }
        super().__init__(SpaceProvider(), resource_name, props, opts)
