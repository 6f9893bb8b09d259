"""One exception for every Fly API failure: which resource, which call, Fly's words and what a person can do.

Classification follows the Machines API's habits: Fly's own `status` code in the error body when it sends one
(`name_taken`, `insufficient_capacity`, ...), else the HTTP status and a few phrases Fly is known to use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Unpack

from components.dynamic import api_error
from components.dynamic.api_error import ApiError, CommonFields, Subject, category_by_status
from components.fly.catalog import GPU_END_OF_LIFE_FACT

# The Machines API paths whose request body carries a machine config or a volume's compute hint.
_MACHINE_WRITE = re.compile(r"^/apps/[^/]+/machines(?:/[^/]+)?$")
_VOLUME_CREATE = re.compile(r"^/apps/[^/]+/volumes$")
_APP_CREATE = re.compile(r"^/apps$")


class Category(api_error.Category):
    GPU = "gpu_unavailable"
    NAME_TAKEN = "name_taken"
    CAPACITY = "capacity"
    QUOTA = "quota"
    LEASE = "lease_held"


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


class FlyApiError(ApiError):
    """A failed Fly API call. `str(err)` is one paragraph a person can act on; the fields serve code and tests."""

    service = "Fly API"
    request_id_label = "fly-request-id"
    suggestions = SUGGESTIONS

    def __init__(
        self,
        subject: Subject,
        *,
        method: str = "",
        path: str = "",
        fly_code: str = "",
        **common: Unpack[CommonFields],
    ) -> None:
        self.method = method
        self.path = path
        self.fly_code = fly_code
        super().__init__(subject, **common)

    @property
    def fly_message(self) -> str:
        """Fly's own words, scrubbed."""
        return self.service_message

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "method": self.method, "path": self.path, "fly_code": self.fly_code}

    def _request_line(self) -> str:
        return f"{self.method} {self.path}".strip()

    def _code(self) -> str:
        return self.fly_code


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
    return category_by_status(status, _BY_STATUS)
