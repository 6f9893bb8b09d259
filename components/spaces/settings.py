"""A Spaces stack's settings: the shared Studio settings plus the Space's own keys, with the Hub's rules."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from components.catalog import MODELS, ModelId
from components.settings import PROJECT, FieldRule, Issue, StudioSettings, http_url, matches, valid
from components.spec import MIN_RAM_GB, MIN_VRAM_GB, RECOMMENDED_RAM_GB

from .catalog import COMMIT, DEFAULT_FLAVOR, FLAVORS, FOLLOW_MAIN, HUB_NAME, HUB_URL, weight_key_repos

# RAM below which a flavor is accepted with a warning: the Studio was OOM-killed at 32 GB and runs comfortably
# in about 64 GB, which l40sx1's 62 GB is; a10g-large's 46 GB is the risky case (FACTS.md section 4).
COMFORTABLE_RAM_GB = 60
HUB_NAME_RULE = "letters, digits, '-', '_' and '.', at most 96, not starting or ending with '-' or '.'"
HF_AUTH_HELP = (
    "pulumi config set --secret hfToken <token>: a write token of the namespace's owner (or a member of the "
    "organisation), made at https://huggingface.co/settings/tokens"
)


def _flavor(value: str) -> str:
    if value not in FLAVORS:
        usable = ", ".join(name for name in FLAVORS if _refusal(name, []) is None)
        raise ValueError(f"{value!r} is not a GPU flavor the Studio can use; use one of {usable}")
    return value


def _refusal(flavor: str, models: list[ModelId]) -> str | None:
    """Why a flavor cannot run the Studio with these models, or None."""
    spec = FLAVORS[flavor]
    vram = max([MIN_VRAM_GB, *(MODELS[m].vram_gb for m in models)])
    if spec.vram_gb < vram:
        return f"{flavor} has {spec.vram_gb} GB of VRAM; the Studio needs {vram} GB"
    if spec.ram_gb < MIN_RAM_GB:
        return (
            f"{flavor} has {spec.ram_gb} GB of RAM; the Studio needs more than {MIN_RAM_GB} GB "
            "(it was OOM-killed at 32 GB)"
        )
    return None


def _revision(value: str) -> str:
    if value != FOLLOW_MAIN and not COMMIT.fullmatch(value):
        raise ValueError(f"{value!r} is not a revision: a full 40-character commit SHA, or {FOLLOW_MAIN!r}")
    return value


class SpacesSettings(StudioSettings):
    """A stack that runs the Studio as a Docker Space on the Hugging Face Hub."""

    FIELD_RULES: ClassVar[dict[str, FieldRule]] = {
        **StudioSettings.FIELD_RULES,
        "hf_namespace": matches(HUB_NAME, f"a Hugging Face user or organisation name: {HUB_NAME_RULE}"),
        "space_name": matches(HUB_NAME, f"a Space name: {HUB_NAME_RULE}"),
        "space_hardware": _flavor,
        "hub_endpoint": http_url,
    }
    STRUCTURED: ClassVar[frozenset[str]] = StudioSettings.STRUCTURED | {"weight_revisions"}

    # Who owns the Space and the bucket: your Hugging Face user name, or an organisation you write to.
    hf_namespace: str | None = None
    space_name: str
    space_hardware: str = DEFAULT_FLAVOR
    space_private: bool = True
    # Copy the chosen models from their read-only mounts to the Space's own disk at every start.
    copy_models: bool = False
    hub_endpoint: str = HUB_URL
    # Weight repo key (runtime, base, ...) -> a commit, or "main": pinned at the commit main points at on the
    # first deploy, and kept until this setting names another.
    weight_revisions: dict[str, str] = Field(default_factory=dict)
    # How long `up` waits for a build and the start that follows it.
    space_wait_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 90

    @classmethod
    def stack_defaults(cls, stack: str) -> dict[str, Any]:
        return {"space_name": f"{PROJECT}-{stack}"}

    @property
    def repo_id(self) -> str:
        return f"{self.hf_namespace}/{self.space_name}"

    @property
    def sleep_seconds(self) -> int:
        """The Space's sleep time: the Studio's idle minutes (0 is refused on paid hardware)."""
        return self.idle_stop_minutes * 60

    @property
    def flavor_rate(self) -> float:
        return FLAVORS[self.space_hardware].usd_per_hour

    def revision_of(self, key: str) -> str:
        return self.weight_revisions.get(key, FOLLOW_MAIN)

    def cross_checks(self, explicit: set[str]) -> list[Issue]:
        return [
            *super().cross_checks(explicit),
            *self._required(),
            *self._hardware(),
            *self._sleep(),
            *self._revisions(),
        ]

    def _required(self) -> list[Issue]:
        issues = []
        if self.hf_namespace is None:
            issues.append(
                Issue(
                    "hfNamespace",
                    "is required on spaces: the Hugging Face user or organisation that owns the Space and "
                    "its bucket; pulumi config set hfNamespace <name>",
                )
            )
        if self.hf_token is None:
            issues.append(
                Issue(
                    "hfToken",
                    "is required on spaces: the deploy makes the Space with it (HF_TOKEN in the environment "
                    f"wins) and the Space keeps itself awake with it during songs; {HF_AUTH_HELP}",
                )
            )
        return issues

    def _hardware(self) -> list[Issue]:
        if not (valid(self.space_hardware, str) and valid(self.models, list)):
            return []
        refusal = _refusal(self.space_hardware, list(self.models))
        if refusal is None:
            return []
        usable = [name for name in FLAVORS if _refusal(name, list(self.models)) is None]
        return [Issue("spaceHardware", f"{refusal}; use {' or '.join(usable)}")]

    def _sleep(self) -> list[Issue]:
        if not (valid(self.idle_stop_minutes, int) and valid(self.space_hardware, str)):
            return []
        if self.idle_stop_minutes != 0:
            return []
        rate = FLAVORS[self.space_hardware].usd_per_hour
        return [
            Issue(
                "idleStopMinutes",
                f"0 would keep the Space awake for good: {self.space_hardware} bills ${rate:.2f} every hour, "
                f"${rate * 730:,.0f} a month, songs or not. Set the minutes of idleness after which it sleeps "
                "(15 by default; at most 1440 for a Space that sleeps only after a quiet day)",
            )
        ]

    def _revisions(self) -> list[Issue]:
        if not valid(self.weight_revisions, dict):
            return []
        repos = weight_key_repos()
        issues = []
        for key, revision in self.weight_revisions.items():
            if key not in repos:
                issues.append(
                    Issue("weightRevisions", f"{key!r} is not a weight repo; use {', '.join(repos)}")
                )
                continue
            try:
                _revision(revision)
            except ValueError as err:
                issues.append(Issue("weightRevisions", f"{key}: {err}"))
        return issues

    def warnings(self) -> list[str]:
        warnings = []
        flavor = FLAVORS[self.space_hardware]
        if flavor.ram_gb < COMFORTABLE_RAM_GB:
            risky = " and risky with the large model" if ModelId.LARGE in self.models else ""
            warnings.append(
                f"{PROJECT}:spaceHardware is {flavor.name} with {flavor.ram_gb} GB of RAM: enough to start, below "
                f"the ~{RECOMMENDED_RAM_GB} GB the Studio runs comfortably in{risky}; {DEFAULT_FLAVOR} has "
                f"{FLAVORS[DEFAULT_FLAVOR].ram_gb} GB"
            )
        if not self.space_private:
            warnings.append(
                f"{PROJECT}:spacePrivate is false: anyone can open the Studio, generate songs on your GPU "
                "hours and keep the Space awake"
            )
        return warnings
