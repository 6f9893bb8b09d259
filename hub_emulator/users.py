"""`GET /api/whoami-v2`: who a token belongs to, its organisations and the token's role."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hub_emulator import auth
from hub_emulator.core import get_core
from hub_emulator.errors import unauthorized

router = APIRouter()


@router.get("/api/whoami-v2")
async def whoami(request: Request) -> dict[str, Any]:
    core = get_core(request)
    token = auth.presented_token(request)
    with core.lock:
        caller = auth.identify(core, request)
        grant = core.grant_for(token) if token else None
        if caller.user is None or grant is None:
            raise unauthorized()
        user = caller.user
        return {
            "type": "user",
            "id": user.name,
            "name": user.name,
            "fullname": user.fullname,
            "isPro": False,
            "canPay": True,
            "emailVerified": True,
            "orgs": [
                {"type": "org", "name": org, "fullname": org, "roleInOrg": "write"}
                for org in sorted(user.orgs)
            ],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": grant.label, "role": grant.role},
            },
        }
