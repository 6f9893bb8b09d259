"""The stand-in's request records: what a test may assert about the traffic a client sent.

Headers and bodies are never kept: a record says whether an Authorization header was present, never what it
held. Paths and queries are redacted as standin.reqlog says (a CDN signature, a token, the caller's token).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

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
