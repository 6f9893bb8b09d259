"""Who is calling, and what they may see and change.

Tokens are registered with the stand-in with a user and a role (`read` or `write`). An unknown token is 401
with the Hub's own sentence; a request without a token is anonymous and may read public repos only. A private
repo a caller cannot see is 404 RepoNotFound (401 with the same code for an anonymous caller), exactly as for a
repo that does not exist, so its existence never leaks. A caller who can see a repo but not change it gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from hub_emulator.core import Core
from hub_emulator.errors import HubError, forbidden, repo_not_found, unauthorized
from hub_emulator.state import User

READ, WRITE = "read", "write"
ROLES = (READ, WRITE)


@dataclass(frozen=True)
class Caller:
    user: User | None  # None: anonymous
    role: str | None

    @property
    def name(self) -> str | None:
        return self.user.name if self.user else None

    def member_of(self, owner: str) -> bool:
        """The owner is this user, or an organisation this user belongs to (a collaborator)."""
        return self.user is not None and (owner == self.user.name or owner in self.user.orgs)


ANONYMOUS = Caller(None, None)


def presented_token(request: Request) -> str | None:
    """The credential of `Authorization: Bearer <token>`, else None."""
    scheme, _, credential = request.headers.get("authorization", "").strip().partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


def identify(core: Core, request: Request) -> Caller:
    """The caller, or 401 for a token (or an Authorization header) the Hub would not accept."""
    if "authorization" not in request.headers:
        return ANONYMOUS
    token = presented_token(request)
    grant = core.grant_for(token) if token else None
    if grant is None:
        raise unauthorized()
    user = core.store.users.get(grant.user)
    if user is None:  # the user was removed after the token was issued
        raise unauthorized()
    return Caller(user, grant.role)


def require_user(caller: Caller) -> User:
    if caller.user is None:
        raise HubError(401, "You must be authenticated to do this (Authorization: Bearer <token>)")
    return caller.user


def check_read(caller: Caller, owner: str, private: bool) -> None:
    if private and not caller.member_of(owner):
        raise repo_not_found(401 if caller.user is None else 404)


def check_write(caller: Caller, owner: str, private: bool, what: str) -> None:
    """May this caller change something owned by `owner` (`what` names it for the message)?"""
    require_user(caller)
    check_read(caller, owner, private)
    if not caller.member_of(owner):
        raise forbidden(f"You don't have the rights to change {what}: it belongs to {owner}")
    if caller.role != WRITE:
        raise forbidden(f"This token is read-only: changing {what} needs a token with the write role")


def check_namespace(caller: Caller, namespace: str, what: str) -> User:
    """May this caller create `what` under `namespace`?"""
    user = require_user(caller)
    if not caller.member_of(namespace):
        raise forbidden(f"You don't have the rights to create {what} under the namespace {namespace}")
    if caller.role != WRITE:
        raise forbidden(f"This token is read-only: creating {what} needs a token with the write role")
    return user
