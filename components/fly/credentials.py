"""Where the Fly API lives and which token to send: the environment first, then the stack's config.

The stack config arrives in the provider process through `configure()`. It is kept in this module rather than on
the provider object, because provider objects are pickled into the Pulumi state and this must never be.
"""

from __future__ import annotations

import os
from typing import Any

from .catalog import API_URL
from .errors import Category, FlyApiError, Subject

DEFAULT_API_URL = API_URL
PROJECT = "songgen-studio"
URL_ENV = "FLY_API_URL"
TOKEN_ENV = "FLY_API_TOKEN"  # noqa: S105 - the variable's name
URL_CONFIG = f"{PROJECT}:flyApiUrl"
TOKEN_CONFIG = f"{PROJECT}:flyApiToken"

# Macaroon tokens (what `fly tokens create` makes) go with the FlyV1 scheme; anything else is a bearer token.
_MACAROON_PREFIXES = ("fm1r_", "fm1a_", "fm2_")
_SCHEMES = ("flyv1", "bearer")

_stack_config: dict[str, str] = {}

HOW_TO_AUTHENTICATE = (
    "Set one for this shell with export FLY_API_TOKEN=$(fly tokens create deploy) (an org token from "
    "fly tokens create org when the app does not exist yet), or store it in the stack as a secret with "
    "pulumi config set --secret flyApiToken <token>. To try everything without an account, run the stack "
    "against the bundled emulator (make sandbox)."
)


def remember_stack_config(config: Any) -> None:
    """Keep the URL and token from the stack config (a `pulumi.dynamic.Config`) for this process."""
    for key in (URL_CONFIG, TOKEN_CONFIG):
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            _stack_config[key] = value.strip()
        else:
            _stack_config.pop(key, None)


def forget_stack_config() -> None:
    _stack_config.clear()


def base_url() -> str:
    url = os.environ.get(URL_ENV, "").strip() or _stack_config.get(URL_CONFIG) or DEFAULT_API_URL
    return url.rstrip("/")


def is_fly(url: str) -> bool:
    """True when `url` is Fly's own Machines API rather than an emulator or a proxy."""
    return url.rstrip("/") == DEFAULT_API_URL


def token(subject: Subject) -> str:
    """The API token, or a FlyApiError that says how to set one."""
    value = os.environ.get(TOKEN_ENV, "").strip() or _stack_config.get(TOKEN_CONFIG, "")
    if not strip_scheme(value):
        raise FlyApiError(
            subject,
            message=(f"no Fly API token: {TOKEN_ENV} is not set and the stack has no {TOKEN_CONFIG} secret"),
            category=Category.AUTH,
            suggestion=HOW_TO_AUTHENTICATE,
        )
    return value


def strip_scheme(value: str) -> str:
    """`fly tokens create` prints the token with its scheme ("FlyV1 fm2_..."); accept it with or without."""
    value = value.strip()
    head, _, rest = value.partition(" ")
    if rest and head.lower() in _SCHEMES:
        return strip_scheme(rest)
    return value


def authorization(value: str) -> str:
    """The Authorization header for a token, which may be several comma-separated tokens."""
    parts = [part.strip() for part in strip_scheme(value).split(",") if part.strip()]
    macaroons = [part for part in parts if part.startswith(_MACAROON_PREFIXES)]
    if macaroons:
        return "FlyV1 " + ",".join(macaroons)
    return "Bearer " + ",".join(parts)


def secrets_of(value: str) -> list[str]:
    """Every form of the token that must never appear in a message."""
    bare = strip_scheme(value)
    return [value, bare, *[part.strip() for part in bare.split(",")]]
