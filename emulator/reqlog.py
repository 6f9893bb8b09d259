"""The emulator's request records: what a test may assert about the traffic a client sent.

Headers are never kept (they carry the token); paths and queries are redacted as standin.reqlog says. Bodies
are kept parsed, with secret values replaced and any occurrence of the caller's token scrubbed, so a client
that leaks its token into a body is caught without the log itself becoming a leak.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from standin.reqlog import REDACTED

_SECRETS_PATH = re.compile(r"/v1/apps/[^/]+/secrets(/[^/]+)?")
MAX_RECORDS = 10_000


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str  # raw query string, redacted
    status: int
    duration_s: float
    body: Any  # parsed JSON body (redacted), raw text if not JSON, None if empty
    at: float  # unix seconds when the request arrived

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scrub(value: Any, token: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, token) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, token) for v in value]
    if isinstance(value, str) and token and token in value:
        return value.replace(token, REDACTED)
    return value


def _redact_secret_values(path: str, body: Any) -> Any:
    if not _SECRETS_PATH.fullmatch(path) or not isinstance(body, dict):
        return body
    out = dict(body)
    values = out.get("values")
    if isinstance(values, dict):
        # Keep names and which ones are unset (null); drop every value.
        out["values"] = {k: (None if v is None else REDACTED) for k, v in values.items()}
    if "value" in out:
        out["value"] = REDACTED
    return out


def redact_body(path: str, raw: bytes, token: str | None) -> Any:
    if not raw.strip():
        return None
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        text = raw.decode("utf-8", errors="replace")
        if _SECRETS_PATH.fullmatch(path):
            return REDACTED
        return _scrub(text, token)
    return _scrub(_redact_secret_values(path, body), token)
