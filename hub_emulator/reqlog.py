"""The request log: what a test may assert about the traffic a client sent.

Headers and bodies are never kept: a record says whether an Authorization header was present, never what it
held. Query values that carry credentials (a CDN signature, a token) are redacted, and the caller's token is
scrubbed from paths and queries in case a client leaks it there.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "<redacted>"
_SENSITIVE_QUERY_KEYS = frozenset({"token", "access_token", "signature", "password", "secret"})
MAX_RECORDS = 20_000


@dataclass(frozen=True)
class RequestRecord:
    method: str
    host: str  # the Host header: 127.0.0.1:<port> for the API, <cdn host>:<port> for LFS downloads
    path: str
    query: str  # redacted
    kind: str  # "api" | "download" (resolve) | "cdn" | "visit" (a Space's host)
    status: int
    authorized: bool  # an Authorization header was present (its value is never recorded)
    bytes_sent: int  # response body bytes actually written to the connection
    duration_s: float
    at: float  # unix seconds when the request arrived
    space: str | None = None  # for visits: the Space's id, when the host names one

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def redact_text(text: str, token: str | None) -> str:
    return text.replace(token, REDACTED) if token else text


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
