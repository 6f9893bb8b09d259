"""A failed call to a platform's API, told as one paragraph a person can act on.

Every platform's error names the resource (`Subject`), the call, the service's own words, how many attempts over
how long, and what to do (a suggestion per category, from the platform's own table). Secrets the service might
echo back are scrubbed from all of it. The fields serve code and tests, and the error pickles by them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Required, Self, TypedDict

from .errors import ProviderError


@dataclass(frozen=True)
class Subject:
    """The resource a call is made for, as a person names it: kind and name."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Category:
    """What went wrong, in the words every platform shares; a platform's subclass adds its own."""

    AUTH = "auth"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    PRECONDITION = "precondition"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    NETWORK = "network"
    TIMEOUT = "timeout"
    OTHER = "other"


def category_by_status(status: int, table: Mapping[int, str]) -> str:
    """The category a platform's table gives an HTTP status; any other 5xx is the server's, the rest "other"."""
    if status in table:
        return table[status]
    return Category.SERVER if status >= 500 else Category.OTHER


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (a token, a secret value) that might be echoed back with a placeholder."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class CommonFields(TypedDict, total=False):
    """The keyword arguments of `ApiError`, for subclasses that add their own beside them."""

    message: Required[str]
    status: int | None
    request_id: str
    category: str
    suggestion: str | None
    attempts: int
    elapsed_s: float
    maybe_applied: bool
    redact: Iterable[str]


class ApiError(ProviderError):
    """A failed API call. `str(err)` is one paragraph; a platform's subclass names the service and the call.

    A subclass sets its own fields before calling `__init__` (the message is written there), adds them to
    `fields()`, and overrides the parts of the paragraph it has: `_what`, `_request_line`, `_code`, `_below`.
    """

    service: ClassVar[str] = "API"
    request_id_label: ClassVar[str] = "request id"
    suggestions: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        subject: Subject,
        *,
        message: str,
        status: int | None = None,
        request_id: str = "",
        category: str = Category.OTHER,
        suggestion: str | None = None,
        attempts: int = 1,
        elapsed_s: float = 0.0,
        maybe_applied: bool = False,
        redact: Iterable[str] = (),
    ) -> None:
        redact = list(redact)
        self.subject = subject
        self.status = status
        self.request_id = request_id
        self.category = category
        self.service_message = scrub(message, redact)
        self.suggestion = scrub(
            self.suggestions.get(category, "") if suggestion is None else suggestion, redact
        )
        self.attempts = attempts
        self.elapsed_s = elapsed_s
        # True when a request that is not safe to repeat may have taken effect despite the error (a 5xx, a lost
        # answer): the caller looks before it tries again.
        self.maybe_applied = maybe_applied
        below = self._below()
        super().__init__(self._paragraph() + (f"\n{below}" if below else ""))

    def fields(self) -> dict[str, Any]:
        """The keyword arguments that make this error again."""
        return {
            "message": self.service_message,
            "status": self.status,
            "request_id": self.request_id,
            "category": self.category,
            "suggestion": self.suggestion,
            "attempts": self.attempts,
            "elapsed_s": self.elapsed_s,
            "maybe_applied": self.maybe_applied,
        }

    def with_advice(self, suggestion: str, category: str | None = None) -> Self:
        """The same failure with advice that fits the case better than the category's general one."""
        fields = {**self.fields(), "suggestion": suggestion}
        if category is not None:
            fields["category"] = category
        return type(self)(self.subject, **fields)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only construction: rebuild from the fields, not from the formatted message.
        return (_rebuild, (type(self), self.subject, self.fields()))

    def _what(self) -> str:
        """What the paragraph says failed."""
        return str(self.subject)

    def _request_line(self) -> str:
        """The call as a person reads it ("POST /apps"); empty when no single request failed."""
        return ""

    def _code(self) -> str:
        """The service's own error code, when it sends one."""
        return ""

    def _below(self) -> str:
        """Lines shown as they are below the paragraph (a build log's tail)."""
        return ""

    def _paragraph(self) -> str:
        call = self._request_line()
        parts = [f"{self.service} error for {self._what()}:"]
        if call and self.status is not None:
            parts.append(f"{call} answered HTTP {self.status}")
        elif call:
            parts.append(f"{call} failed")
        if self._code():
            parts.append(f"({self._code()})")
        text = " ".join(parts)
        if self.service_message:
            text += f' "{self.service_message}"' if call else f" {self.service_message}"
        extras = []
        if self.request_id:
            extras.append(f"{self.request_id_label} {self.request_id}")
        if self.attempts > 1:
            extras.append(f"gave up after {self.attempts} attempts over {self.elapsed_s:.1f} s")
        if extras:
            text += f" ({'; '.join(extras)})"
        text = text.rstrip(".") + "."
        if self.suggestion:
            text += " " + self.suggestion
        return one_line(text)


def _rebuild(cls: type[ApiError], subject: Subject, fields: dict[str, Any]) -> ApiError:
    return cls(subject, **fields)
