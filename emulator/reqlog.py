"""The request log: what a test may assert about the traffic a client sent.

Headers are never kept (they carry the token). Bodies are kept parsed, with secret values replaced and
any occurrence of the caller's token scrubbed, so a client that leaks its token into a body or a query
string is caught without the log itself becoming a leak.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "<redacted>"
_SECRETS_PATH = re.compile(r"/v1/apps/[^/]+/secrets(/[^/]+)?")
_SENSITIVE_QUERY_KEYS = frozenset({"token", "access_token", "password", "secret"})
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


def redact_path(path: str, token: str | None) -> str:
    return path.replace(token, REDACTED) if token else path


def redact_query(query: str, token: str | None) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    cleaned = [
        (k, REDACTED if k.lower() in _SENSITIVE_QUERY_KEYS or (token and token in v) else v) for k, v in pairs
    ]
    return urlencode(cleaned)


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=MAX_RECORDS)

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def all(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
