"""One exception for every Hub failure: which resource, which operation, the Hub's words and what to do.

`huggingface_hub` raises typed errors (`RepositoryNotFoundError`, `BucketNotFoundError`, `BadRequestError`, any
other `HfHubHTTPError` with its response); the HTTP status decides the category, and the Hub's own message
(`X-Error-Message` or the body, which `huggingface_hub` keeps as `server_message`) is quoted as it came.
"""

from __future__ import annotations

from typing import Any, Unpack

from components.dynamic import api_error
from components.dynamic.api_error import ApiError, CommonFields, Subject, category_by_status, scrub

TOKEN_KEYS = "HF_TOKEN or songgen-studio:hfToken"  # noqa: S105 - where a token goes


class Category(api_error.Category):
    FORBIDDEN = "forbidden"
    BILLING = "billing"
    CONFLICT = "conflict"
    NOT_OURS = "not_ours"
    FAILED = "failed"


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
    return category_by_status(status, _BY_STATUS)


class SpacesError(ApiError):
    """A failed Hub operation. `str(err)` is one paragraph a person can act on; the fields serve code and tests."""

    service = "Hugging Face Hub"
    suggestions = SUGGESTIONS

    def __init__(
        self,
        subject: Subject,
        *,
        operation: str = "",
        call: str = "",
        details: str = "",
        **common: Unpack[CommonFields],
    ) -> None:
        self.operation = operation
        self.call = call
        redact = list(common.get("redact", ()))
        common["redact"] = redact  # read again by ApiError
        # Lines shown as they are below the paragraph (a build log's tail).
        self.details = scrub(details, redact)
        super().__init__(subject, **common)

    @property
    def hub_message(self) -> str:
        """The Hub's own words, scrubbed."""
        return self.service_message

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "operation": self.operation, "call": self.call, "details": self.details}

    def _what(self) -> str:
        return f"{self.subject} ({self.operation})" if self.operation else str(self.subject)

    def _request_line(self) -> str:
        return self.call

    def _below(self) -> str:
        return self.details
