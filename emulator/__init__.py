"""A local stand-in for Fly.io's Machines API (https://api.machines.dev/v1), for tests, benchmarks and
the sandbox. It follows Fly's documented behaviour, not any client's convenience: what it cannot answer
the way Fly would is a 4xx in Fly's error shape (`{"error": "..."}`), never a silent success.

Modules: state (data model), lifecycle (machine state machine), machine_config (config validation),
apps / volumes / machines / leases / wait / secrets / ips (routes), machine_views (lookup and rendering),
ratelimit, reqlog (request records), core (shared state and lock), introspect (snapshot, billable,
settings), control (/__emulator routes), asgi (the app, Fly's gate and the pipeline), server (FlyEmulator),
__main__ (`python -m emulator`), errors, ids, regions, query (strict query readers). What every stand-in
shares (the fault book, the pipeline, the request log, strict JSON readers, the server, the control routes,
the CLI) is in the `standin` package.

Where Fly's answer is undocumented the emulator makes a choice and says so here:
- GET of an app held by another organisation answers 403 "unauthorized" (fly-go #282; fly-go's
  AppNameAvailable reads the body); creating it is 422 `name_taken`.
- A machine create needs an explicit `region` (Fly would pick the nearest one; the emulator cannot know).
- Deleting a machine or an app that is not stopped, without force, is 412 failed_precondition.
- Starting a machine that is not at rest, suspending or restarting one that is not started: 412.
- Mounting a volume bound to another machine: 412; an unknown volume or one in another region: 400.
- `min_secrets_version` / `min_version` above the app's secrets version: 412.
- Wait with a `version` that is no longer current: 412; with an unknown one: 400.
- A second `shared_v4` for the same app: 422.
- `show_secrets=true` is 403: only digests are kept, so the value cannot be shown.

Not modelled (answered with an error or simply absent): exec, ps, signal, memory, certificates, org-wide
listings, Flycast/egress IPs, autostop/autostart driven by traffic, health-check results, host capacity
(except the GPU region rule), zones for `require_unique_zone`, automatic daily snapshots, machine name
uniqueness.
"""

from emulator.reqlog import RequestRecord
from emulator.server import EmulatorError, FlyEmulator

__all__ = ["EmulatorError", "FlyEmulator", "RequestRecord"]
