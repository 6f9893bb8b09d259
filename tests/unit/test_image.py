"""Image references: content tags, the fly-remote build command, digests taken from flyctl."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from components.fly.image import fly_remote_command, reference_from_flyctl_output
from components.fly.settings import FlySettings
from components.image import DOCKER_DIR, build_args, content_tag
from tests.fly_settings import fly_settings

DIGEST = "sha256:" + "ab" * 32


def settings(**raw: str) -> FlySettings:
    return fly_settings("dev", raw)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    ctx = tmp_path / "docker"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    (ctx / "entrypoint.py").write_text("print('hi')\n")
    return ctx


def test_the_content_tag_is_stable_and_names_both_pins(context: Path) -> None:
    tag = content_tag(settings(), context)
    assert tag == content_tag(settings(), context)
    assert tag.startswith("e55c80c-10af9db-")


def test_the_content_tag_changes_with_any_file_or_pin(context: Path) -> None:
    before = content_tag(settings(), context)
    (context / "entrypoint.py").write_text("print('changed')\n")
    after_file = content_tag(settings(), context)
    assert after_file != before
    assert content_tag(settings(studioCommit="f" * 40), context) not in {before, after_file}
    (context / "__pycache__").mkdir()
    (context / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert content_tag(settings(), context) == after_file  # bytecode caches are not part of the build


def test_flyctl_output_pins_the_reference_to_the_pushed_digest() -> None:
    tagged = "registry.fly.io/songgen-studio-dev:e55c80c-10af9db-123"
    out = f"==> Building image\n--> Pushing image done\nimage: {tagged}\ndigest: {DIGEST}\n"
    assert reference_from_flyctl_output(out, tagged) == f"registry.fly.io/songgen-studio-dev@{DIGEST}"
    assert reference_from_flyctl_output("no digest printed", tagged) == tagged


def test_the_fly_remote_build_runs_flyctl_with_the_content_label(tmp_path: Path, context: Path) -> None:
    """Runs the exact command the pulumi-command resource is declared with, against a stand-in flyctl."""
    record = tmp_path / "args.txt"
    flyctl = tmp_path / "bin" / "flyctl"
    flyctl.parent.mkdir()
    flyctl.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\necho "token-set=${{FLY_API_TOKEN:+yes}}"\necho {DIGEST}\n'
    )
    flyctl.chmod(flyctl.stat().st_mode | stat.S_IEXEC)

    s = settings()
    tag = content_tag(s, context)
    command = fly_remote_command(s, tag, context)
    env = {"PATH": f"{flyctl.parent}:/usr/bin:/bin", "FLY_API_TOKEN": "test-token"}
    done = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, check=True)

    args = record.read_text().splitlines()
    assert args[:2] == ["deploy", str(context)]
    assert args[args.index("--app") + 1] == "songgen-studio-dev"
    assert args[args.index("--image-label") + 1] == tag
    assert {"--build-only", "--push", "--remote-only"} <= set(args)
    assert f"STUDIO_COMMIT={s.studio_commit}" in args
    assert f"TENCENT_COMMIT={s.songgen_commit}" in args
    assert "test-token" not in command
    assert "test-token" not in done.stdout
    assert "token-set=yes" in done.stdout
    ref = reference_from_flyctl_output(done.stdout, f"registry.fly.io/songgen-studio-dev:{tag}")
    assert ref == f"registry.fly.io/songgen-studio-dev@{DIGEST}"


def test_every_build_arg_is_one_the_dockerfile_declares() -> None:
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text().splitlines()
    declared = {line.split()[1].split("=")[0] for line in dockerfile if line.startswith("ARG ")}
    assert set(build_args(settings())) <= declared
