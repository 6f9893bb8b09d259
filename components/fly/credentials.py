"""Where the Fly API lives and which token to send: the environment first, then the stack's config (kept in the
provider process by `components.dynamic.stack_config`, never on a provider object)."""

from __future__ import annotations

from components.dynamic.api_error import Subject
from components.dynamic.stack_config import StackConfig

from .catalog import API_URL
from .errors import Category, FlyApiError

DEFAULT_API_URL = API_URL
PROJECT = "songgen-studio"
URL_ENV = "FLY_API_URL"
TOKEN_ENV = "FLY_API_TOKEN"  # noqa: S105 - the variable's name
URL_CONFIG = f"{PROJECT}:flyApiUrl"
TOKEN_CONFIG = f"{PROJECT}:flyApiToken"

# Macaroon tokens (what `fly tokens create` makes) go with the FlyV1 scheme; anything else is a bearer token.
_MACAROON_PREFIXES = ("fm1r_", "fm1a_", "fm2_")
_SCHEMES = ("flyv1", "bearer")

STACK_CONFIG = StackConfig(URL_CONFIG, TOKEN_CONFIG)
remember_stack_config = STACK_CONFIG.remember
forget_stack_config = STACK_CONFIG.forget

HOW_TO_AUTHENTICATE = (
    "Set one for this shell with export FLY_API_TOKEN=$(fly tokens create deploy) (an org token from "
    "fly tokens create org when the app does not exist yet), or store it in the stack as a secret with "
    "pulumi config set --secret flyApiToken <token>. To try everything without an account, run the stack "
    "against the bundled emulator (make sandbox)."
)


def base_url() -> str:
    url = STACK_CONFIG.setting(URL_ENV, URL_CONFIG) or DEFAULT_API_URL
    return url.rstrip("/")


def is_fly(url: str) -> bool:
    """True when `url` is Fly's own Machines API rather than an emulator or a proxy."""
    return url.rstrip("/") == DEFAULT_API_URL


def token(subject: Subject) -> str:
    """The API token, or a FlyApiError that says how to set one."""
    value = STACK_CONFIG.setting(TOKEN_ENV, TOKEN_CONFIG)
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
