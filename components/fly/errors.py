"""One exception for every Fly API failure: which resource, which call, Fly's words and what a person can do.

Classification follows the Machines API's habits: Fly's own `status` code in the error body when it sends one
(`name_taken`, `insufficient_capacity`, ...), else the HTTP status and a few phrases Fly is known to use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from components.dynamic.errors import ProviderError
from components.fly.catalog import GPU_END_OF_LIFE_FACT

# The Machines API paths whose request body carries a machine config or a volume's compute hint.
_MACHINE_WRITE = re.compile(r"^/apps/[^/]+/machines(?:/[^/]+)?$")
_VOLUME_CREATE = re.compile(r"^/apps/[^/]+/volumes$")
_APP_CREATE = re.compile(r"^/apps$")


@dataclass(frozen=True)
class Subject:
    """The resource a call is made for, as a person names it: kind and name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Category:
    GPU = "gpu_unavailable"
    NAME_TAKEN = "name_taken"
    CAPACITY = "capacity"
    QUOTA = "quota"
    AUTH = "auth"
    LEASE = "lease_held"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    PRECONDITION = "precondition"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    NETWORK = "network"
    TIMEOUT = "timeout"
    OTHER = "other"


SUGGESTIONS: dict[str, str] = {
    Category.GPU: (
        f"{GPU_END_OF_LIFE_FACT} (gpu_kind or gpus). Nothing is wrong with this configuration, and it stays "
        "valid for GPU providers that still exist: deploy it to another GPU target, or run the stack against the "
        "bundled Fly API emulator (make sandbox, or FLY_API_URL pointing at it) to exercise the whole lifecycle."
    ),
    Category.NAME_TAKEN: (
        "Fly app names are global across all of Fly.io, not per organization, so the name may belong to an app "
        "you cannot see. Choose another app name (songgen-studio:appName)."
    ),
    Category.CAPACITY: (
        "Fly has no room for this in that region right now. Try another region, or run again later."
    ),
    Category.QUOTA: (
        "The organization reached a Fly quota or limit. Remove resources it no longer needs (fly apps list, "
        "fly volumes list) or ask Fly support to raise the limit."
    ),
    Category.AUTH: (
        "The Fly API token is missing, expired, or belongs to another organization. Create one for the app's "
        "organization and set it: export FLY_API_TOKEN=$(fly tokens create org), or for an existing app "
        "export FLY_API_TOKEN=$(fly tokens create deploy -a <app>); or store it in the stack with "
        "pulumi config set --secret flyApiToken <token>."
    ),
    Category.LEASE: (
        "Another deploy or flyctl command holds a lease on this machine. Wait for it to finish (leases expire "
        "on their own) and run again."
    ),
    Category.NOT_FOUND: (
        "It no longer exists on Fly or the name is wrong; if it was deleted outside Pulumi, pulumi refresh "
        "brings the state up to date."
    ),
    Category.INVALID: "Fly rejected the request as invalid; its message names the field to fix.",
    Category.PRECONDITION: (
        "Fly's precondition failed (a version mismatch, or no room on the host next to the volume). Run again; "
        "if it persists, place the volume in another zone or region."
    ),
    Category.RATE_LIMITED: (
        "Fly rate-limits the Machines API (about 1 request/s per action, bursts of 3). Run again in a minute."
    ),
    Category.SERVER: "Fly's API failed on its side. Run again later; status.flyio.net lists incidents.",
    Category.NETWORK: (
        "The Fly API could not be reached. Check the network, and FLY_API_URL or songgen-studio:flyApiUrl."
    ),
    Category.TIMEOUT: (
        "Check what the machine is doing with fly machine status <id> -a <app> and fly logs -a <app>; "
        "a slow first boot may need a larger wait_timeout_s."
    ),
    Category.OTHER: "",
}


class FlyApiError(ProviderError):
    """A failed Fly API call. `str(err)` is one paragraph a person can act on; the fields serve code and tests."""

    def __init__(
        self,
        subject: Subject,
        *,
        message: str,
        method: str = "",
        path: str = "",
        status: int | None = None,
        request_id: str = "",
        fly_code: str = "",
        category: str = Category.OTHER,
        suggestion: str | None = None,
        attempts: int = 1,
        elapsed_s: float = 0.0,
        maybe_applied: bool = False,
        redact: Iterable[str] = (),
    ) -> None:
        self.subject = subject
        self.method = method
        self.path = path
        self.status = status
        self.request_id = request_id
        self.fly_code = fly_code
        self.category = category
        self.fly_message = scrub(message, redact)
        self.suggestion = scrub(SUGGESTIONS.get(category, "") if suggestion is None else suggestion, redact)
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        # True when a non-idempotent request may have taken effect despite the error (5xx, read timeout):
        # the caller looks before it tries again.
        self.maybe_applied = maybe_applied
        super().__init__(self._paragraph())

    def _fields(self) -> dict[str, Any]:
        return {
            "message": self.fly_message,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "request_id": self.request_id,
            "fly_code": self.fly_code,
            "category": self.category,
            "suggestion": self.suggestion,
            "attempts": self.attempts,
            "elapsed_s": self.elapsed_s,
            "maybe_applied": self.maybe_applied,
        }

    def with_advice(self, suggestion: str, category: str | None = None) -> FlyApiError:
        """The same failure with advice that fits the case better than the category's general one."""
        fields = {**self._fields(), "suggestion": suggestion}
        if category is not None:
            fields["category"] = category
        return FlyApiError(self.subject, **fields)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only construction: rebuild from the fields, not from the formatted message.
        return (_rebuild, (self.subject, self._fields()))

    def _paragraph(self) -> str:
        call = f"{self.method} {self.path}".strip()
        parts = [f"Fly API error for {self.subject}:"]
        if call and self.status is not None:
            parts.append(f"{call} answered HTTP {self.status}")
        elif call:
            parts.append(f"{call} failed")
        if self.fly_code:
            parts.append(f"({self.fly_code})")
        text = " ".join(parts)
        if self.fly_message:
            text += f' "{self.fly_message}"' if call else f" {self.fly_message}"
        extras = []
        if self.request_id:
            extras.append(f"fly-request-id {self.request_id}")
        if self.attempts > 1:
            extras.append(f"gave up after {self.attempts} attempts over {self.elapsed_s:.1f} s")
        if extras:
            text += f" ({'; '.join(extras)})"
        text = text.rstrip(".") + "."
        if self.suggestion:
            text += " " + self.suggestion
        return _one_line(text)


def _rebuild(subject: Subject, fields: dict[str, Any]) -> FlyApiError:
    return FlyApiError(subject, **fields)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (token, secret value) that might be echoed back with a placeholder."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fly_error_fields(body: Any) -> tuple[str, str]:
    """Fly's message and status code from an error body: `{"error": ..., "status": ...}` or `{"message": ...}`."""
    if isinstance(body, Mapping):
        message = body.get("error") or body.get("message") or body.get("detail") or ""
        code = body.get("status")
        return (str(message) if not isinstance(message, str) else message), (
            code if isinstance(code, str) else ""
        )
    return "", ""


def asks_for_gpu(method: str, path: str, body: Any) -> bool:
    """True when the request would create or update a machine (or a volume for one) that has a GPU."""
    if method != "POST" or not isinstance(body, Mapping):
        return False
    if _MACHINE_WRITE.match(path):
        config = body.get("config")
        guest = config.get("guest") if isinstance(config, Mapping) else None
        return _has_gpu(guest)
    if _VOLUME_CREATE.match(path):
        return _has_gpu(body.get("compute"))
    return False


def _has_gpu(guest: Any) -> bool:
    if not isinstance(guest, Mapping):
        return False
    gpus = guest.get("gpus")
    return bool(guest.get("gpu_kind")) or (isinstance(gpus, int | float) and gpus > 0)


# Fly's own error codes decide the category when Fly sends one; its wording is only read when it does not.
_BY_FLY_CODE = {
    "name_taken": Category.NAME_TAKEN,
    "insufficient_capacity": Category.CAPACITY,
    "volume_placement_capacity": Category.CAPACITY,
}
_BY_STATUS = {
    400: Category.INVALID,
    401: Category.AUTH,
    403: Category.AUTH,
    404: Category.NOT_FOUND,
    408: Category.TIMEOUT,
    412: Category.PRECONDITION,
    422: Category.INVALID,
    429: Category.RATE_LIMITED,
}


def classify(status: int, message: str, fly_code: str, method: str, path: str, body: Any) -> str:
    """The category of a failed call: Fly's status code first, else the HTTP status and Fly's wording."""
    if status == 400 and asks_for_gpu(method, path, body):
        return Category.GPU
    if fly_code:
        return _BY_FLY_CODE.get(fly_code) or _by_status(status)
    text = message.lower()
    if _APP_CREATE.match(path) and status in (403, 409, 422) and ("taken" in text or "exists" in text):
        return Category.NAME_TAKEN
    if "capacity" in text or (status == 409 and "insufficient" in text and "available" in text):
        return Category.CAPACITY
    if status in (409, 412) and "lease" in text:
        return Category.LEASE
    if status == 403 and any(word in text for word in ("quota", "limit", "exceeded")):
        return Category.QUOTA
    return _by_status(status)


def _by_status(status: int) -> str:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return Category.SERVER if status >= 500 else Category.OTHER
