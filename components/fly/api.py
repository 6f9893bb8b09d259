"""The Machines API client: auth, timeouts, retries and errors mapped to FlyApiError.

A client lives for one provider call (`with FlyClient(subject) as fly: ...`) and is never stored: providers are
pickled into the Pulumi state, so neither the connection nor the token may hang off them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from components.dynamic import retry
from components.dynamic.api_error import Subject
from components.dynamic.retry import Attempts, Backoff, parse_retry_after, retryable

from . import credentials
from .errors import Category, FlyApiError, classify, fly_error_fields

REQUEST_ID_HEADER = "fly-request-id"
USER_AGENT = "songgen-studio-fly"
CONNECT_S = 10.0
READ_S = 30.0
TIMEOUT = httpx.Timeout(connect=CONNECT_S, read=READ_S, write=READ_S, pool=CONNECT_S)


def segment(value: str) -> str:
    """One path segment, escaped: names come from stack config."""
    return quote(value, safe="")


class FlyClient:
    def __init__(
        self,
        subject: Subject,
        *,
        base_url: str | None = None,
        token: str | None = None,
        backoff: Backoff | None = None,
        redact: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.subject = subject
        self.base_url = (base_url or credentials.base_url()).rstrip("/")
        secret = token if token is not None else credentials.token(subject)
        self.backoff = backoff or retry.DEFAULT_BACKOFF
        self._redact = [*credentials.secrets_of(secret), *redact]
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": credentials.authorization(secret), "User-Agent": USER_AGENT},
            timeout=TIMEOUT,
            transport=transport,
        )

    def __enter__(self) -> FlyClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        accept: Collection[int] = (),
        idempotent: bool | None = None,
        read_timeout_s: float | None = None,
    ) -> httpx.Response:
        """One API call with retries. Answers below 300 and those in `accept` are returned; others raise.

        Retried: 429 always (Fly did nothing), 5xx and lost connections only when repeating the call is harmless.
        A create (POST, unless `idempotent=True`) that fails in a way that may have taken effect raises with
        `maybe_applied` set, so the caller looks for what it made before trying again.
        """
        safe = method != "POST" if idempotent is None else idempotent
        timeout = httpx.Timeout(
            connect=CONNECT_S, read=read_timeout_s or READ_S, write=READ_S, pool=CONNECT_S
        )
        attempts = Attempts(self.backoff)
        while True:
            try:
                response = self._http.request(method, path, json=body, params=params, timeout=timeout)
            except httpx.TransportError as exc:
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if (safe or never_sent) and attempts.retry():
                    continue
                raise self._transport_error(method, path, exc, attempts, not (safe or never_sent)) from None
            status = response.status_code
            if status < 300 or status in accept:
                return response
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retryable(status, safe) and attempts.retry(retry_after):
                continue
            raise self._api_error(method, path, body, response, attempts, not safe and status >= 500)

    def get_json(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any | None:
        """GET a resource; None when Fly answers 404."""
        response = self.call("GET", path, params=params, accept=(404,))
        return None if response.status_code == 404 else _json(response)

    def send_json(self, method: str, path: str, body: Any = None, *, idempotent: bool | None = None) -> Any:
        return _json(self.call(method, path, body=body, idempotent=idempotent))

    def delete(self, path: str, *, params: Mapping[str, Any] | None = None) -> bool:
        """DELETE; False when it was already gone (404)."""
        return self.call("DELETE", path, params=params, accept=(404,)).status_code != 404

    def error(self, message: str, category: str, suggestion: str | None = None) -> FlyApiError:
        """A FlyApiError about this client's resource that no single HTTP answer produced."""
        return FlyApiError(
            self.subject, message=message, category=category, suggestion=suggestion, redact=self._redact
        )

    def _api_error(
        self,
        method: str,
        path: str,
        body: Any,
        response: httpx.Response,
        attempts: Attempts,
        maybe_applied: bool,
    ) -> FlyApiError:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        message, fly_code = fly_error_fields(payload)
        if not message:
            message = response.text[:300] or response.reason_phrase
        return FlyApiError(
            self.subject,
            message=message,
            method=method,
            path=path,
            status=response.status_code,
            request_id=response.headers.get(REQUEST_ID_HEADER, ""),
            fly_code=fly_code,
            category=classify(response.status_code, message, fly_code, method, path, body),
            attempts=attempts.count,
            elapsed_s=attempts.elapsed_s,
            maybe_applied=maybe_applied,
            redact=self._redact,
        )

    def _transport_error(
        self, method: str, path: str, exc: httpx.TransportError, attempts: Attempts, maybe: bool
    ) -> FlyApiError:
        timed_out = isinstance(exc, httpx.TimeoutException)
        what = "timed out" if timed_out else "could not be completed"
        return FlyApiError(
            self.subject,
            message=f"the request to {self.base_url} {what}: {type(exc).__name__} {exc}".strip(),
            method=method,
            path=path,
            category=Category.NETWORK,
            attempts=attempts.count,
            elapsed_s=attempts.elapsed_s,
            maybe_applied=maybe,
            redact=self._redact,
        )


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
