"""What the project's local stand-ins for services it cannot reach share: `emulator` (Fly's Machines API) and
`hub_emulator` (the Hugging Face Hub). Each keeps what is its service's own (routes, error shape, auth, rate
limits, CDN, bandwidth); this package holds what is the same for both.

Modules: errors (ServiceError, InvalidRequestError, ErrorShape: how a service words and renders errors),
jsonbody (strict JSON body readers), faults (the fault book: status N times or for T seconds, Retry-After,
after, cut_after), reqlog (redaction and the bounded request log), core (settings, store, faults and log behind
one lock; keyed digests), settings (checked run-time settings), pipeline (latency, faults, request ids and
recording in front of the routes), app (the FastAPI app and its error handlers), control (the control routes
every stand-in has), server (BackgroundServer: uvicorn on a loopback socket in a thread; StandInServer: plus
the Python switches every stand-in has), cli (listen arguments, serving until a signal).
"""
