"""The Hub as the Spaces providers see it: where it is, which token, `HfApi` per call, retries, clear errors.

Where and who: `HF_ENDPOINT` / `HF_TOKEN` from the environment first, then the stack's `hubEndpoint` /
`hfToken` (a secret), which arrive in the provider process through `configure()` and are kept there
(`components.dynamic.stack_config`), never on a provider object (those are pickled into the state).

Every call goes through `Hub.call`: an `HfApi` built for this one provider call, and the retries every platform
shares (`components.dynamic.retry`: one time budget per call, the Hub's `Retry-After` honoured in both of its
forms). A 429 is always retried (the Hub did nothing); a 5xx or a lost connection only when repeating the call
is harmless. A create whose answer was lost raises with `maybe_applied`, and its provider looks before it tries
again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import httpx2
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, HFValidationError, RepositoryNotFoundError

from components.dynamic import retry
from components.dynamic.api_error import Subject
from components.dynamic.retry import Attempts, Backoff, parse_retry_after, retryable
from components.dynamic.stack_config import StackConfig

from .catalog import HUB_URL
from .errors import Category, SpacesError, category_of

T = TypeVar("T")

ENDPOINT_ENV = "HF_ENDPOINT"
TOKEN_ENV = "HF_TOKEN"  # noqa: S105 - the variable's name
ENDPOINT_CONFIG = "songgen-studio:hubEndpoint"
TOKEN_CONFIG = "songgen-studio:hfToken"  # noqa: S105 - the key's name
LIBRARY = "songgen-studio"

STACK_CONFIG = StackConfig(ENDPOINT_CONFIG, TOKEN_CONFIG)
remember_stack_config = STACK_CONFIG.remember
forget_stack_config = STACK_CONFIG.forget


def endpoint() -> str:
    url = STACK_CONFIG.setting(ENDPOINT_ENV, ENDPOINT_CONFIG) or HUB_URL
    return url.rstrip("/")


def token(subject: Subject) -> str:
    value = STACK_CONFIG.setting(TOKEN_ENV, TOKEN_CONFIG)
    if not value:
        raise SpacesError(
            subject,
            message=f"no Hugging Face token: {TOKEN_ENV} is not set and the stack has no hfToken secret",
            category=Category.AUTH,
        )
    return value


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
        self.backoff = backoff or retry.DEFAULT_BACKOFF
        self._redact = [secret, *redact]

    def call(self, operation: str, do: Callable[[HfApi], T], *, idempotent: bool = True) -> T:
        """Run `do(api)` with retries; any failure becomes one SpacesError naming `operation`."""
        attempts = Attempts(self.backoff)
        while True:
            try:
                return do(self.api)
            except HfHubHTTPError as err:
                status = status_of(err)
                headers = getattr(getattr(err, "response", None), "headers", {}) or {}
                retry_after = parse_retry_after(headers.get("retry-after"))
                if retryable(status, idempotent) and attempts.retry(retry_after):
                    continue
                maybe = not idempotent and (status is None or status >= 500)
                raise self._hub_error(operation, err, attempts, maybe) from None
            except (httpx2.TransportError, ConnectionError) as err:
                never_sent = isinstance(err, httpx2.ConnectError | ConnectionRefusedError)
                if (idempotent or never_sent) and attempts.retry():
                    continue
                raise self._network_error(operation, err, attempts, not (idempotent or never_sent)) from None
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
        self, operation: str, err: HfHubHTTPError, attempts: Attempts, maybe_applied: bool
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
            attempts=attempts.count,
            elapsed_s=attempts.elapsed_s,
            maybe_applied=maybe_applied,
            redact=self._redact,
        )

    def _network_error(
        self, operation: str, err: Exception, attempts: Attempts, maybe_applied: bool
    ) -> SpacesError:
        return SpacesError(
            self.subject,
            message=f"the request to {self.endpoint} could not be completed: {type(err).__name__} {err}".strip(),
            operation=operation,
            category=Category.NETWORK,
            attempts=attempts.count,
            elapsed_s=attempts.elapsed_s,
            maybe_applied=maybe_applied,
            redact=self._redact,
        )
