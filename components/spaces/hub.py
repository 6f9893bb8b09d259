"""The Hub as the Spaces providers see it: where it is, which token, `HfApi` per call, retries, clear errors.

Where and who: `HF_ENDPOINT` / `HF_TOKEN` from the environment first, then the stack's `hubEndpoint` /
`hfToken` (a secret), which arrive in the provider process through `configure()` and are kept in this module,
never on a provider object (those are pickled into the state).

Every call goes through `Hub.call`: an `HfApi` built for this one provider call, and retries bounded by time
alone (CALL_BUDGET_S from the first attempt) that honour the Hub's `Retry-After` in both of its forms. A 429 is
always retried (the Hub did nothing); a 5xx or a lost connection only when repeating the call is harmless.
A create whose answer was lost raises with `maybe_applied`, and its provider looks before it tries again.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, HFValidationError, RepositoryNotFoundError

from .catalog import HUB_URL
from .errors import Category, SpacesError, Subject, category_of

T = TypeVar("T")

ENDPOINT_ENV = "HF_ENDPOINT"
TOKEN_ENV = "HF_TOKEN"  # noqa: S105 - the variable's name
ENDPOINT_CONFIG = "songgen-studio:hubEndpoint"
TOKEN_CONFIG = "songgen-studio:hfToken"  # noqa: S105 - the key's name
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# How long one Hub call (all of its attempts) may keep retrying.
CALL_BUDGET_S = 90.0
LIBRARY = "songgen-studio"

_stack_config: dict[str, str] = {}


def remember_stack_config(config: Any) -> None:
    """Keep the endpoint and token from the stack config (a `pulumi.dynamic.Config`) for this process."""
    for key in (ENDPOINT_CONFIG, TOKEN_CONFIG):
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            _stack_config[key] = value.strip()
        else:
            _stack_config.pop(key, None)


def forget_stack_config() -> None:
    _stack_config.clear()


def endpoint() -> str:
    url = os.environ.get(ENDPOINT_ENV, "").strip() or _stack_config.get(ENDPOINT_CONFIG) or HUB_URL
    return url.rstrip("/")


def token(subject: Subject) -> str:
    value = os.environ.get(TOKEN_ENV, "").strip() or _stack_config.get(TOKEN_CONFIG, "")
    if not value:
        raise SpacesError(
            subject,
            message=f"no Hugging Face token: {TOKEN_ENV} is not set and the stack has no hfToken secret",
            category=Category.AUTH,
        )
    return value


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.5
    cap_s: float = 8.0
    budget_s: float = CALL_BUDGET_S

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Random up to base*2^(attempt-1), capped; the Hub's Retry-After wins."""
        jittered = random.uniform(0.0, min(self.cap_s, self.base_s * 2 ** min(attempt - 1, 30)))
        return max(jittered, retry_after or 0.0)

    def allows(self, started: float, wait_s: float) -> bool:
        return time.monotonic() - started + wait_s <= self.budget_s


# Module-level so tests can shorten it; read at call time, never captured by a provider.
DEFAULT_BACKOFF = Backoff()


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def status_of(err: HfHubHTTPError) -> int | None:
    response = getattr(err, "response", None)
    return getattr(response, "status_code", None)


def is_missing(err: Exception) -> bool:
    """The Hub says the thing is not there (or not visible): a repo, a bucket, a secret."""
    return isinstance(err, RepositoryNotFoundError) or (
        isinstance(err, HfHubHTTPError) and status_of(err) == 404
    )


class Hub:
    """One provider call's view of the Hub. Build it inside the call; never keep it."""

    def __init__(
        self, subject: Subject, *, redact: Iterable[str] = (), backoff: Backoff | None = None
    ) -> None:
        self.subject = subject
        secret = token(subject)
        self.endpoint = endpoint()
        self.api = HfApi(endpoint=self.endpoint, token=secret, library_name=LIBRARY)
        self.backoff = backoff or DEFAULT_BACKOFF
        self._redact = [secret, *redact]

    def call(self, operation: str, do: Callable[[HfApi], T], *, idempotent: bool = True) -> T:
        """Run `do(api)` with retries; any failure becomes one SpacesError naming `operation`."""
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return do(self.api)
            except HfHubHTTPError as err:
                status = status_of(err)
                headers = getattr(getattr(err, "response", None), "headers", {}) or {}
                wait = self.backoff.delay(attempt, parse_retry_after(headers.get("retry-after")))
                retryable = status == 429 or (status in RETRY_STATUSES and idempotent)
                if retryable and self.backoff.allows(started, wait):
                    time.sleep(wait)
                    continue
                maybe = not idempotent and (status is None or status >= 500)
                raise self._hub_error(operation, err, attempt, started, maybe) from None
            except (httpx2.TransportError, ConnectionError) as err:
                never_sent = isinstance(err, httpx2.ConnectError | ConnectionRefusedError)
                wait = self.backoff.delay(attempt)
                if (idempotent or never_sent) and self.backoff.allows(started, wait):
                    time.sleep(wait)
                    continue
                raise self._network_error(
                    operation, err, attempt, started, not (idempotent or never_sent)
                ) from None
            except HFValidationError as err:
                raise self.error(str(err), Category.INVALID, operation=operation) from None

    def find(self, operation: str, do: Callable[[HfApi], T]) -> T | None:
        """Like `call`, but None when the Hub says it is not there (404)."""
        try:
            return self.call(operation, do)
        except SpacesError as err:
            if err.category == Category.NOT_FOUND:
                return None
            raise

    def error(
        self, message: str, category: str, suggestion: str | None = None, *, operation: str = ""
    ) -> SpacesError:
        """A SpacesError about this call's resource that no single HTTP answer produced."""
        return SpacesError(
            self.subject,
            message=message,
            operation=operation,
            category=category,
            suggestion=suggestion,
            redact=self._redact,
        )

    def _hub_error(
        self, operation: str, err: HfHubHTTPError, attempt: int, started: float, maybe_applied: bool
    ) -> SpacesError:
        response = getattr(err, "response", None)
        request = getattr(response, "request", None)
        status = status_of(err)
        call = f"{request.method} {request.url.path}" if request is not None else ""
        words = err.server_message or str(err).strip().splitlines()[0]
        category = Category.NOT_FOUND if isinstance(err, RepositoryNotFoundError) else category_of(status)
        return SpacesError(
            self.subject,
            message=words,
            operation=operation,
            call=call,
            status=status,
            request_id=err.request_id or "",
            category=category,
            attempts=attempt,
            elapsed_s=time.monotonic() - started,
            maybe_applied=maybe_applied,
            redact=self._redact,
        )

    def _network_error(
        self, operation: str, err: Exception, attempt: int, started: float, maybe_applied: bool
    ) -> SpacesError:
        return SpacesError(
            self.subject,
            message=f"the request to {self.endpoint} could not be completed: {type(err).__name__} {err}".strip(),
            operation=operation,
            category=Category.NETWORK,
            attempts=attempt,
            elapsed_s=time.monotonic() - started,
            maybe_applied=maybe_applied,
            redact=self._redact,
        )
