"""`make wait`: polls a Studio's /api/health with progress until it answers, within a bounded time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lifecycle.wait_ready import health_headers, main, wait_until_healthy
from lifecycle.workspace import ROOT, SCRATCH_PASSPHRASE, engine_env, open_stack, python_program

OK = (200, "application/json", json.dumps({"status": "ok", "version": "test"}))
FILLING = (503, "text/plain", "no machine answers yet")


class Studio:
    """A stand-in Studio on 127.0.0.1: answers /api/health from a script, then `OK` for good."""

    def __init__(self, script: list[tuple[int, str, str]]) -> None:
        self.script = list(script)
        self.seen_authorization: list[str | None] = []
        studio = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                studio.seen_authorization.append(self.headers.get("Authorization"))
                status, kind, body = studio.script.pop(0) if studio.script else OK
                if self.path != "/api/health":
                    status, kind, body = 404, "text/plain", "not found"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Studio:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def filling_studio() -> Iterator[Studio]:
    """Answers 503 three times (the volume is filling), then a non-JSON 200, then ok."""
    with Studio([FILLING, FILLING, FILLING, (200, "text/html", "<html>starting</html>")]) as studio:
        yield studio


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_waits_through_the_fill_and_reports_each_change_of_answer(filling_studio: Studio) -> None:
    lines: list[str] = []
    outcome = wait_until_healthy(filling_studio.url, timeout=10, interval=0.05, report=lines.append)
    assert outcome.ready
    assert [line.strip().split("  ", 1)[1] for line in lines] == [
        "HTTP 503",
        "HTTP 200, but not the Studio's health answer (not JSON)",
        "HTTP 200, status ok",
    ]
    assert len(filling_studio.seen_authorization) == 5


def test_gives_up_after_the_timeout_with_the_last_answer() -> None:
    with Studio([FILLING] * 1000) as studio:
        lines: list[str] = []
        outcome = wait_until_healthy(studio.url, timeout=0.5, interval=0.05, report=lines.append)
    assert not outcome.ready
    assert outcome.last_answer == "HTTP 503"
    assert outcome.seconds < 2
    assert len(lines) == 1  # an unchanged answer is not repeated within the minute


def test_a_server_that_is_not_listening_yet_counts_as_not_ready() -> None:
    outcome = wait_until_healthy(
        f"http://127.0.0.1:{unused_port()}", timeout=0.3, interval=0.05, report=lambda _: None
    )
    assert not outcome.ready
    assert outcome.last_answer.startswith("no answer (ConnectError")


def test_a_health_answer_other_than_ok_is_not_ready() -> None:
    starting = (200, "application/json", json.dumps({"status": "starting"}))
    with Studio([starting] * 1000) as studio:
        outcome = wait_until_healthy(studio.url, timeout=0.3, interval=0.05, report=lambda _: None)
    assert not outcome.ready
    assert "not ready" in outcome.last_answer


def test_the_hugging_face_token_goes_only_to_hugging_face_spaces() -> None:
    env = {"HF_TOKEN": "hf_private_space_token"}
    assert health_headers("https://acme-songgen.hf.space", env) == {
        "Authorization": "Bearer hf_private_space_token"
    }
    assert health_headers("https://songgen-studio-dev.fly.dev", env) == {}
    assert health_headers("http://acme-songgen.hf.space", env) == {}  # never in clear text
    assert health_headers("https://hf.space.example.com", env) == {}
    assert health_headers("https://acme-songgen.hf.space", {}) == {}


def test_headers_given_reach_the_studio(filling_studio: Studio) -> None:
    headers = {"Authorization": "Bearer hf_private_space_token"}
    wait_until_healthy(filling_studio.url, timeout=10, interval=0.05, headers=headers, report=lambda _: None)
    assert set(filling_studio.seen_authorization) == {"Bearer hf_private_space_token"}


def test_the_command_exits_zero_when_ready_and_one_on_timeout(
    filling_studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--url", filling_studio.url, "--timeout", "10", "--interval", "0.05"]) == 0
    assert "ready after" in capsys.readouterr().out
    with Studio([FILLING] * 1000) as studio:
        assert main(["--url", studio.url, "--timeout", "0.3", "--interval", "0.05"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    assert "last answer: HTTP 503" in out
    assert "--timeout" in out


@pytest.mark.engine
def test_make_wait_reads_the_url_from_the_stack_outputs(filling_studio: Studio, tmp_path: Path) -> None:
    program = python_program(
        tmp_path / "project",
        "probe",
        f"import pulumi\n\npulumi.export('url', {filling_studio.url!r})\npulumi.export('app', 'probe-app')\n",
    )
    env = engine_env(tmp_path / "state", SCRATCH_PASSPHRASE)
    stack = open_stack(program, "dev", env)
    stack.up(color="never")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "lifecycle.wait_ready", "--stack", "dev", "--interval", "0.05"],
            cwd=program,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"waiting for {filling_studio.url}/api/health" in result.stdout
        assert "HTTP 503" in result.stdout
        assert "ready after" in result.stdout
        missing = subprocess.run(
            [sys.executable, "-m", "lifecycle.wait_ready", "--stack", "nope"],
            cwd=program,
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert missing.returncode == 2
        assert "could not read the outputs of stack 'nope'" in missing.stdout
    finally:
        stack.destroy(color="never")
        stack.workspace.remove_stack("dev")
