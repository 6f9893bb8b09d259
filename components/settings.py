"""The settings every platform shares, and the machinery that validates a stack's config into one typed model.

Every value is checked before any resource is declared. Problems are collected, not raised one at a time: a
broken stack file gets one line per broken key, each naming the key, the value and what is allowed. Defaults
live here and in each platform's settings model (a subclass of `StudioSettings`); a stack file sets only what
differs. `components.platforms.load_settings` picks the model by the stack's `platform` key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from components.catalog import HOURS_PER_MONTH, ModelId

PROJECT = "songgen-studio"

# The pair known to work together: Tencent's "SongGeneration 2" (2026-03-02) breaks the Studio's patches.
DEFAULT_STUDIO_COMMIT = "e55c80cce76519691bd1ddd68dd58bbc0d537a37"
DEFAULT_SONGGEN_COMMIT = "10af9dbb63807afd749016d72782063c6a54ba66"

# Stacks that must name both upstream commits in their own file instead of inheriting defaults.
PINNED_STACKS = frozenset({"prod"})
# Stacks whose songs and model cache are protected by default (protectData): production by name.
PROD_LIKE = re.compile(r"^prod(uction)?([-_].*)?$")

COMMIT = re.compile(r"^[0-9a-f]{40}$")
# registry/repository[:tag][@sha256:digest]; a tag or a digest is required (checked separately).
IMAGE_REF = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


class PlatformName(StrEnum):
    FLY = "fly"
    SPACES = "spaces"
    KUBERNETES = "kubernetes"


FieldRule = Callable[[str], str]


def matches(pattern: re.Pattern[str], allowed: str) -> FieldRule:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not valid: {allowed}")
        return value

    return check


def image_reference(value: str) -> str:
    """A full image reference that pins something: a tag or a digest."""
    match = IMAGE_REF.fullmatch(value)
    if match is None or not (match["tag"] or match["digest"]):
        raise ValueError(
            f"{value!r} is not valid: an image reference with a tag or a digest, e.g. registry.example/app:v1"
        )
    return value


def http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


class Validated(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid", use_enum_values=False
    )


@dataclass(frozen=True)
class Issue:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{PROJECT}:{self.key}: {self.message}"


class StudioSettings(Validated):
    """What every stack says, whatever its platform: `songgen-studio:<camelCaseName>` keys."""

    # Field-level rules beyond the types, applied to the raw text of one key; platforms extend them.
    FIELD_RULES: ClassVar[dict[str, FieldRule]] = {
        "studio_commit": matches(COMMIT, "a full 40-character lowercase hex commit SHA"),
        "songgen_commit": matches(COMMIT, "a full 40-character lowercase hex commit SHA"),
    }
    # Keys whose values arrive as JSON text when set with `pulumi config set` or as YAML structures.
    STRUCTURED: ClassVar[frozenset[str]] = frozenset({"models"})
    # Keys whose values must be stored encrypted.
    SECRET: ClassVar[frozenset[str]] = frozenset({"hf_token"})

    stack: str
    platform: PlatformName = PlatformName.FLY
    models: Annotated[list[ModelId], Field(min_length=1)] = Field(default_factory=lambda: [ModelId.BASE])
    idle_stop_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 15
    # For the cost estimate: hours a month the Studio is expected to run.
    busy_hours_per_month: Annotated[int, Field(ge=0, le=HOURS_PER_MONTH)] = 40
    studio_commit: str = DEFAULT_STUDIO_COMMIT
    songgen_commit: str = DEFAULT_SONGGEN_COMMIT
    hf_token: SecretStr | None = None
    # Refuse edits that would lose stored songs and caches; unset: on for production stacks.
    protect_data: bool | None = None

    @property
    def data_protected(self) -> bool:
        if self.protect_data is not None:
            return self.protect_data
        return bool(PROD_LIKE.match(self.stack))

    @classmethod
    def stack_defaults(cls, stack: str) -> dict[str, Any]:
        """Defaults that depend on the stack's name."""
        return {}

    def cross_checks(self, explicit: set[str]) -> list[Issue]:
        """Rules across keys. Runs on a draft in which keys that failed on their own hold `INVALID`."""
        issues = []
        if self.stack in PINNED_STACKS:
            for name in ("studio_commit", "songgen_commit"):
                if name not in explicit:
                    key = alias_of(name)
                    issues.append(
                        Issue(key, f"must be pinned in Pulumi.{self.stack}.yaml (a 40-hex commit SHA)")
                    )
        return issues

    def warnings(self) -> list[str]:
        return []


INVALID = object()


def alias_of(name: str) -> str:
    return to_camel(name)


class SettingsError(Exception):
    """The stack's configuration is invalid; carries every problem found."""

    def __init__(self, stack: str, issues: list[Issue]) -> None:
        self.stack = stack
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(
            f"Pulumi.{stack}.yaml has {len(issues)} invalid setting(s); fix them and run again:\n{lines}"
        )


@dataclass(frozen=True)
class LoadedSettings:
    settings: StudioSettings
    warnings: list[str]


def validate(
    model: type[StudioSettings],
    platform: PlatformName,
    stack: str,
    raw: Mapping[str, Any],
    *,
    secret_keys: Iterable[str] = (),
    foreign: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Validate `raw` (config key without the project prefix -> value) against one platform's settings model.

    `foreign` maps keys that belong to other platforms to the platform's name, so such a key is reported as
    misplaced rather than unknown. Raises SettingsError listing every problem.
    """
    fields = model.model_fields
    by_alias = {(info.alias or name): name for name, info in fields.items() if name != "stack"}
    issues: list[Issue] = []
    values: dict[str, Any] = {**model.stack_defaults(stack), "platform": platform}
    failed: dict[str, object] = {}

    for key, value in raw.items():
        name = by_alias.get(key)
        if name is None:
            issues.append(Issue(key, _not_a_setting(platform, key, foreign or {}, sorted(by_alias))))
            continue
        parsed = _parse_field(model, name, value)
        if isinstance(parsed, Issue):
            issues.append(Issue(key, parsed.message))
            failed[name] = INVALID
        else:
            values[name] = parsed

    secrets = set(secret_keys)
    for name in sorted(model.SECRET):
        key = alias_of(name)
        if name in values and key in raw and key not in secrets:
            issues.append(
                Issue(key, f"is stored in plain text; set it with `pulumi config set --secret {key} <value>`")
            )

    # Cross-field rules see defaults for unset keys and a marker for keys that failed above, so they add
    # their own findings without repeating those.
    draft = model.model_construct(stack=stack, **{**_defaults(model, values), **failed})
    issues += draft.cross_checks(explicit=set(values) | set(failed))
    if issues:
        raise SettingsError(stack, issues)
    settings = model.model_validate({"stack": stack, **values})
    return LoadedSettings(settings, settings.warnings())


def _not_a_setting(platform: PlatformName, key: str, foreign: Mapping[str, str], known: list[str]) -> str:
    if key in foreign:
        return (
            f"is a {foreign[key]} setting, and this stack's platform is {platform.value!r} "
            f"({PROJECT}:platform); remove it, or set platform to {foreign[key]!r}"
        )
    return f"unknown setting; the settings are: {', '.join(known)}"


def _parse_field(model: type[StudioSettings], name: str, value: Any) -> Any:
    info = model.model_fields[name]
    alias = info.alias or name
    if name in model.STRUCTURED and isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return Issue(alias, f"{value!r} is not valid JSON/YAML structure")
    rule = model.FIELD_RULES.get(name)
    try:
        if rule is not None and isinstance(value, str):
            rule(value)
        return TypeAdapter[Any](info.rebuild_annotation()).validate_python(value)
    except ValueError as err:
        return Issue(alias, describe(err, value))


def describe(err: ValueError, value: Any) -> str:
    if isinstance(err, ValidationError):
        parts = []
        for e in err.errors(include_url=False):
            where = ".".join(str(p) for p in e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            parts.append(f"{where}: {msg}" if where else msg)
        return f"{value!r} is invalid: " + "; ".join(parts)
    return str(err)


def _defaults(model: type[StudioSettings], values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "stack":
            continue
        out[name] = values[name] if name in values else info.get_default(call_default_factory=True)
    return out


def valid(value: Any, kind: type | tuple[type, ...]) -> bool:
    """For cross checks: a value that parsed (not `INVALID`) and has the expected type."""
    return value is not INVALID and isinstance(value, kind)
