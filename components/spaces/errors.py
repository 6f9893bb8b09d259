"""One exception for every Hub failure: which resource, which operation, the Hub's words and what to do.

`huggingface_hub` raises typed errors (`RepositoryNotFoundError`, `BucketNotFoundError`, `BadRequestError`, any
other `HfHubHTTPError` with its response); the HTTP status decides the category, and the Hub's own message
(`X-Error-Message` or the body, which `huggingface_hub` keeps as `server_message`) is quoted as it came.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from components.dynamic.errors import ProviderError

TOKEN_KEYS = "HF_TOKEN or songgen-studio:hfToken"  # noqa: S105 - where a token goes


@dataclass(frozen=True)
class Subject:
    """The resource a call is made for, as a person names it: kind and name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Category:
    AUTH = "auth"
    FORBIDDEN = "forbidden"
    BILLING = "billing"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PRECONDITION = "precondition"
    INVALID = "invalid"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    NETWORK = "network"
    TIMEOUT = "timeout"
    NOT_OURS = "not_ours"
    FAILED = "failed"
    OTHER = "other"


SUGGESTIONS: dict[str, str] = {
    Category.AUTH: (
        "The Hub did not accept the token: it is missing, mistyped or revoked. Make a write token at "
        f"https://huggingface.co/settings/tokens and set it ({TOKEN_KEYS}: pulumi config set --secret hfToken "
        "<token>)."
    ),
    Category.FORBIDDEN: (
        "The token may not write here: deploys need a write token (not a read token) of the namespace's owner, "
        "or of a member of the organisation named by songgen-studio:hfNamespace."
    ),
    Category.BILLING: (
        "GPU hardware is billed to the namespace that owns the Space: add a payment method (or credits) to that "
        "account or organisation at https://huggingface.co/settings/billing, then run pulumi up again."
    ),
    Category.NOT_FOUND: (
        "It does not exist, or this token cannot see it (a private repo of another account). If it was deleted "
        "outside Pulumi, pulumi refresh brings the state up to date."
    ),
    Category.CONFLICT: "Something of that name already exists on the Hub.",
    Category.PRECONDITION: (
        "The Space's repo changed while this commit was prepared (a commit made elsewhere); run pulumi up again."
    ),
    Category.INVALID: "The Hub refused the request; its message says what to change.",
    Category.RATE_LIMITED: "The Hub rate-limits its API; run again in a minute.",
    Category.SERVER: "The Hub failed on its side; run again later (https://status.huggingface.co lists incidents).",
    Category.NETWORK: (
        "The Hub could not be reached: check the network, and HF_ENDPOINT or songgen-studio:hubEndpoint."
    ),
    Category.TIMEOUT: "",
    Category.NOT_OURS: "",
    Category.FAILED: "",
    Category.OTHER: "",
}

_BY_STATUS = {
    400: Category.INVALID,
    401: Category.AUTH,
    402: Category.BILLING,
    403: Category.FORBIDDEN,
    404: Category.NOT_FOUND,
    409: Category.CONFLICT,
    412: Category.PRECONDITION,
    422: Category.INVALID,
    429: Category.RATE_LIMITED,
}


def category_of(status: int | None) -> str:
    if status is None:
        return Category.NETWORK
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return Category.SERVER if status >= 500 else Category.OTHER


class SpacesError(ProviderError):
    """A failed Hub operation. `str(err)` is one paragraph a person can act on; the fields serve code and tests."""

    def __init__(
        self,
        subject: Subject,
        *,
        message: str,
        operation: str = "",
        call: str = "",
        status: int | None = None,
        request_id: str = "",
        category: str = Category.OTHER,
        suggestion: str | None = None,
        attempts: int = 1,
        elapsed_s: float = 0.0,
        maybe_applied: bool = False,
        details: str = "",
        redact: Iterable[str] = (),
    ) -> None:
        self.subject = subject
        self.operation = operation
        self.call = call
        self.status = status
        self.request_id = request_id
        self.category = category
        self.hub_message = scrub(message, redact)
        self.suggestion = scrub(SUGGESTIONS.get(category, "") if suggestion is None else suggestion, redact)
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        # A create whose answer was lost may have happened: the caller looks before it tries again.
        self.maybe_applied = maybe_applied
        # Lines shown as they are below the paragraph (a build log's tail).
        self.details = scrub(details, redact)
        super().__init__(self._paragraph() + (f"\n{self.details}" if self.details else ""))

    def fields(self) -> dict[str, Any]:
        return {
            "message": self.hub_message,
            "operation": self.operation,
            "call": self.call,
            "status": self.status,
            "request_id": self.request_id,
            "category": self.category,
            "suggestion": self.suggestion,
            "attempts": self.attempts,
            "elapsed_s": self.elapsed_s,
            "maybe_applied": self.maybe_applied,
            "details": self.details,
        }

    def with_advice(self, suggestion: str, category: str | None = None) -> SpacesError:
        """The same failure with advice that fits the case better than the category's general one."""
        fields = {**self.fields(), "suggestion": suggestion}
        if category is not None:
            fields["category"] = category
        return SpacesError(self.subject, **fields)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.subject, self.fields()))

    def _paragraph(self) -> str:
        what = f"{self.subject} ({self.operation})" if self.operation else str(self.subject)
        text = f"Hugging Face Hub error for {what}:"
        if self.call and self.status is not None:
            text += f" {self.call} answered HTTP {self.status}"
        elif self.call:
            text += f" {self.call} failed"
        if self.hub_message:
            text += f' "{self.hub_message}"' if self.call else f" {self.hub_message}"
        extras = []
        if self.request_id:
            extras.append(f"request id {self.request_id}")
        if self.attempts > 1:
            extras.append(f"gave up after {self.attempts} attempts over {self.elapsed_s:.1f} s")
        if extras:
            text += f" ({'; '.join(extras)})"
        text = text.rstrip(".") + "."
        if self.suggestion:
            text += " " + self.suggestion
        return re.sub(r"\s+", " ", text).strip()


def _rebuild(subject: Subject, fields: dict[str, Any]) -> SpacesError:
    return SpacesError(subject, **fields)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (the token, a secret value) that might be echoed back with a placeholder."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
