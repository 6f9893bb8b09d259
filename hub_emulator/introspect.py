"""What tests and tools may read: the state snapshot, what bills, what was left behind, the settings.

Shared by the Python API (server.HubEmulator) and the HTTP control surface (control.py) so both say the same
thing. Secret values and tokens appear nowhere: secrets as keyed digests, tokens as user, role and label.
"""

from __future__ import annotations

import time
from typing import Any

from hub_emulator import hardware, ids, lifecycle, runtime
from hub_emulator.core import Core
from hub_emulator.errors import bad_request
from hub_emulator.state import LogLine, Repo
from standin import settings


def _host_name(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value or "/" in value or ":" in value:
        raise bad_request(f"{key} must be a host name")
    return value


SETTINGS: dict[str, settings.Check] = {
    "latency": settings.number(minimum=0.0),
    "bandwidth": settings.optional(settings.number(minimum=0.0, above=True)),
    "build_seconds": settings.number(minimum=0.0),
    "start_seconds": settings.number(minimum=0.0),
    "sleep_time_scale": settings.number(minimum=0.0, above=True),
    "log_idle_seconds": settings.number(minimum=0.0, above=True),
    "regular_file_limit": settings.number(minimum=0, whole=True),
    "tree_page_size": settings.number(minimum=1, whole=True),
    "cdn_host": _host_name,
}


def apply_settings(core: Core, changes: dict[str, Any]) -> dict[str, Any]:
    return settings.apply_settings(core, SETTINGS, changes)


# --- views ---------------------------------------------------------------------------------------------


def state_snapshot(core: Core) -> dict[str, Any]:
    with core.lock:
        now = time.monotonic()
        core.advance_all(now)
        store = core.store
        groups: dict[str, dict[str, Any]] = {"models": {}, "datasets": {}, "spaces": {}}
        for (repo_type, repo_id), repo in store.repos.items():
            groups[repo_type + "s"][repo_id] = _repo_snapshot(core, repo, now)
        return {
            "emulation": True,
            "settings": core.settings.snapshot(),
            "users": {u.name: {"fullname": u.fullname, "orgs": sorted(u.orgs)} for u in store.users.values()},
            "orgs": sorted(store.orgs),
            "tokens": sorted(
                ({"user": g.user, "role": g.role, "label": g.label} for g in store.tokens.values()),
                key=lambda t: (t["user"], t["label"]),
            ),
            **groups,
            "buckets": {
                b.id: {
                    "private": b.private,
                    "fixture": b.fixture,
                    "files": {p: f.blob.size for p, f in sorted(b.files.items())},
                }
                for b in store.buckets.values()
            },
            "failing_builds": {
                k: {"lines": p.lines, "remaining": p.remaining} for k, p in store.failing_builds.items()
            },
            "failing_starts": {
                k: {"lines": p.lines, "remaining": p.remaining} for k, p in store.failing_starts.items()
            },
            "faults": core.faults.snapshot(),
        }


def _repo_snapshot(core: Core, repo: Repo, now: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "private": repo.private,
        "fixture": repo.fixture,
        "sha": repo.head.oid,
        "commits": len(repo.commits),
        "files": {
            path: {"size": e.blob.size, "lfs": e.lfs, "sha256": e.blob.sha256}
            for path, e in sorted(repo.head.files.items())
        },
    }
    space = repo.space
    if space is not None:
        out["runtime"] = {
            **runtime.render_runtime(repo),
            "sleep_setting": space.sleep_setting,
            "secrets": {k: s.digest for k, s in sorted(space.secrets.items())},
            "variables": {k: v.value for k, v in sorted(space.variables.items())},
            "built_sha": space.built_sha,
            "visits": space.visits,
            "seconds_since_visit": None if space.last_visit is None else round(now - space.last_visit, 3),
            "builds": space.builds,
            "starts": space.starts,
            "build_log": _visible(space.build_log, now),
            "run_log": _visible(space.run_log, now),
            "host_path": f"/__spaces/{ids.subdomain(repo.owner, repo.name)}",
        }
    return out


def _visible(log: list[LogLine], now: float) -> list[str]:
    return [line.text for line in log if line.at <= now]


def billable(core: Core) -> list[str]:
    """Spaces that bill right now (paid hardware, starting or running) and buckets that exist."""
    with core.lock:
        core.advance_all()
        out = []
        for repo in _created_spaces(core):
            space = runtime.space_of(repo)
            flavor = hardware.FLAVORS.get(space.current_hardware or space.requested_hardware)
            if space.stage in lifecycle.BILLED and flavor is not None and flavor.paid:
                out.append(f"space {repo.id} ({flavor.name}, {space.stage}, ${flavor.usd_per_hour:.2f}/h)")
        for bucket in core.store.buckets.values():
            if not bucket.fixture:
                size = sum(f.blob.size for f in bucket.files.values())
                out.append(f"bucket {bucket.id} ({len(bucket.files)} files, {size} bytes)")
        return out


def leftovers(core: Core) -> list[str]:
    """Everything created through the API that still exists, billing or not (a STOPPED Space, a model repo)."""
    with core.lock:
        core.advance_all()
        out = []
        for repo in core.store.repos.values():
            if repo.fixture:
                continue
            if repo.space is not None:
                out.append(f"space {repo.id} ({repo.space.stage}, {repo.space.requested_hardware})")
            else:
                out.append(f"{repo.type} {repo.id}")
        out += [f"bucket {b.id}" for b in core.store.buckets.values() if not b.fixture]
        return out


def _created_spaces(core: Core) -> list[Repo]:
    return [r for r in core.store.repos.values() if r.space is not None and not r.fixture]
