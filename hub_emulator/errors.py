"""The Hub's error shape: JSON `{"error": "..."}` plus the headers `huggingface_hub` reads.

`hf_raise_for_status` picks its exception from `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound,
GatedRepo) and adds `X-Error-Message` to the text it raises, so every error carries the message in both places
and the code wherever the Hub sets one.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from standin.errors import ErrorShape, ServiceError

REPO_NOT_FOUND = "RepoNotFound"
REVISION_NOT_FOUND = "RevisionNotFound"
ENTRY_NOT_FOUND = "EntryNotFound"

# What the Hub says for a token it does not know; HfApi compares against this exact sentence.
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"

REASONS: dict[int, str] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    408: "Request timeout",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    416: "Range not satisfiable",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


class HubError(ServiceError):
    """A non-success answer; raised anywhere in a handler, rendered in the Hub's shape."""


def render(error: ServiceError) -> JSONResponse:
    headers = {"X-Error-Message": _header_safe(error.message), **error.headers}
    if error.code:
        headers["X-Error-Code"] = error.code
    return JSONResponse({**error.extra, "error": error.message}, status_code=error.status, headers=headers)


def _header_safe(text: str) -> str:
    flat = " ".join(text.split())
    return flat.encode("latin-1", errors="replace").decode("latin-1")


SHAPE = ErrorShape(render, REASONS, fallback="Error", internal="internal error in the Hub stand-in")


def bad_request(message: str) -> HubError:
    return HubError(400, message)


def forbidden(message: str) -> HubError:
    return HubError(403, message)


def unauthorized(message: str = INVALID_CREDENTIALS) -> HubError:
    return HubError(401, message)


def repo_not_found(status: int = 404) -> HubError:
    return HubError(status, "Repository not found", code=REPO_NOT_FOUND)


def revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", code=REVISION_NOT_FOUND)


def entry_not_found(message: str = "Entry not found", *, commit: str | None = None) -> HubError:
    # The Hub names the commit it looked in, so a client can cache that the file does not exist there.
    headers = {"X-Repo-Commit": commit} if commit else None
    return HubError(404, message, code=ENTRY_NOT_FOUND, headers=headers)


def not_modelled(what: str) -> HubError:
    """A request the Hub would answer but this stand-in cannot answer the way the Hub would."""
    return HubError(400, f"Not modelled by the Hub stand-in: {what}")
