"""The request log's shared parts: a bounded, thread-safe list of records, and the redaction every record
gets before it is kept.

Each stand-in records its own kind of record (what a test of that service asserts on); none ever keeps a
header's value. Query values that carry credentials are redacted by name, and the caller's credential is
scrubbed wherever it appears, in case a client leaks it into a path or a query.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

REDACTED = "<redacted>"
# Query parameters whose value is a credential whatever it looks like (a CDN link's signature, a token).
SENSITIVE_QUERY_KEYS = frozenset({"token", "access_token", "signature", "password", "secret"})

R = TypeVar("R")


def redact_text(text: str, credential: str | None) -> str:
    return text.replace(credential, REDACTED) if credential else text


def redact_query(query: str, credential: str | None) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    cleaned = [
        (k, REDACTED if k.lower() in SENSITIVE_QUERY_KEYS or (credential and credential in v) else v)
        for k, v in pairs
    ]
    return urlencode(cleaned)


class RequestLog(Generic[R]):
    """The last `max_records` records, oldest first; older ones are dropped so a long run stays bounded."""

    def __init__(self, max_records: int) -> None:
        self._lock = threading.Lock()
        self._records: deque[R] = deque(maxlen=max_records)

    def add(self, record: R) -> None:
        with self._lock:
            self._records.append(record)

    def all(self) -> list[R]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
