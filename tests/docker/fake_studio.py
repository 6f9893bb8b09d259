"""Stand-in for the Studio's main.py: the same CLI and the API endpoints the entrypoint reads.

Copied into a temporary app directory as ``main.py``. Its behaviour is steered by ``state.json``
beside it (read on every request), and it leaves evidence for the tests:

- ``state.json``: ``generations`` (list), ``queue`` (list), ``models`` (list), ``exit_code_on_signal``,
  ``ignore_term`` (bool), ``exit_after`` (seconds, then exits with ``exit_code``).
- ``signals.log``: one line per signal received.
- ``started.json``: argv, cwd and the environment variables the entrypoint must set.
- ``queue.json``: ``POST /api/queue`` appends its JSON body and rewrites the file in place, in two
  halves a moment apart, as the Studio's ``save_queue`` truncates and rewrites it.

Access log lines look like uvicorn's, which is what the entrypoint parses for user activity.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def state() -> dict[str, Any]:
    try:
        data = json.loads((HERE / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Handler(BaseHTTPRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        host, port = self.client_address[:2]
        print(f'INFO:     {host}:{port} - "{self.requestline}" {code}', flush=True)

    def do_GET(self) -> None:
        current = state()
        path = self.path.split("?", 1)[0]
        body: Any
        if path == "/api/health":
            body = {"status": "ok", "gpu": {"available": False}}
        elif path == "/api/generations":
            body = current.get("generations", [])
        elif path == "/api/queue":
            body = current.get("queue", [])
        elif path == "/api/models":
            body = {"models": current.get("models", []), "has_ready_model": False}
        elif path == "/":
            body = {"message": "stand-in studio"}
        else:
            self.send_error(404)
            return
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/api/queue":
            self.send_error(404)
            return
        item = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"null")
        target = HERE / "queue.json"  # through the entrypoint's link, wherever that points
        try:
            queue = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            queue = []
        text = json.dumps([*queue, item], indent=2)
        with open(target, "w", encoding="utf-8") as handle:  # in place, torn for a moment
            handle.write(text[: len(text) // 2])
            handle.flush()
            time.sleep(0.2)
            handle.write(text[len(text) // 2 :])
        raw = json.dumps({"queued": len(queue) + 1}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    done = threading.Event()
    code = {"value": 0}

    def on_signal(signum: int, _frame: Any) -> None:
        with open(HERE / "signals.log", "a", encoding="utf-8") as handle:
            handle.write(signal.Signals(signum).name + "\n")
        current = state()
        if current.get("ignore_term"):
            return
        code["value"] = int(current.get("exit_code_on_signal", 0))
        done.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)

    keys = (
        "PYTHONPATH",
        "PYTHONUTF8",
        "PYTHONUNBUFFERED",
        "PORT",
        "HF_HOME",
        "HF_ENDPOINT",
        "PYTHONPYCACHEPREFIX",
    )
    started = {"argv": sys.argv, "cwd": os.getcwd(), "env": {k: os.environ.get(k) for k in keys}}
    (HERE / "started.json").write_text(json.dumps(started), encoding="utf-8")

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    exit_after = state().get("exit_after")
    if done.wait(float(exit_after) if exit_after is not None else None):
        return code["value"]
    return int(state().get("exit_code", 0))


if __name__ == "__main__":
    sys.exit(main())
