#!/usr/bin/env python3
"""Check, at image build time, that the installed Python set is exactly the lock and is consistent.

    verify_env.py [--exact] [--omit NAME ...] LOCK [STUDIO_REQUIREMENTS ...]

1. Every ``name==version`` of LOCK is installed at that version (with ``--exact``: and nothing else,
   apart from pip itself), except the distributions named with ``--omit``, which the image leaves out
   on purpose (triton by default) and which must then be absent.
2. Every installed distribution named in LOCK has its own declared requirements met. This is what
   catches a wrong CUDA wheel pin for the +cu128 torch builds (see compile_lock.py).
3. Each STUDIO_REQUIREMENTS file (the Studio's requirements.txt and requirements_nodeps.txt at the
   pinned commit) is satisfied, so the lock cannot drift from what the Studio asks for.

Runs inside the image's virtualenv (``packaging`` is part of the lock). Exit status 1 lists every
problem found.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ALLOWED_EXTRAS = frozenset({"pip"})


def read_requirements(path: Path) -> list[Requirement]:
    found: list[Requirement] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            found.append(Requirement(line))
        except InvalidRequirement as err:
            raise SystemExit(f"{path}: cannot parse {line!r}: {err}") from None
    return found


def installed() -> dict[str, metadata.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}


def check(lock: Path, studio_files: list[Path], exact: bool, omit: frozenset[str] = frozenset()) -> list[str]:
    problems: list[str] = []
    dists = installed()
    omit = frozenset(canonicalize_name(name) for name in omit)
    pins: dict[str, Version] = {}
    for req in read_requirements(lock):
        spec = next(iter(req.specifier), None)
        if spec is None or spec.operator != "==" or len(req.specifier) != 1:
            problems.append(f"lock: {req} is not an exact pin")
            continue
        pins[canonicalize_name(req.name)] = Version(spec.version)

    for name in sorted(omit):
        if name not in pins:
            problems.append(f"--omit {name}: not in the lock")
        elif name in dists:
            problems.append(f"{name} should have been left out but is installed")
    for name, version in sorted(pins.items()):
        dist = dists.get(name)
        if name in omit:
            continue
        if dist is None:
            problems.append(f"{name}=={version} from the lock is not installed")
        elif Version(dist.version) != version:
            problems.append(f"{name}: installed {dist.version}, the lock pins {version}")
    if exact:
        for name in sorted(set(dists) - set(pins) - ALLOWED_EXTRAS):
            problems.append(f"{name} {dists[name].version} is installed but not in the lock")

    for name in sorted(set(pins) & set(dists)):
        for raw in dists[name].requires or []:
            req = Requirement(raw)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            dep = dists.get(canonicalize_name(req.name))
            if canonicalize_name(req.name) in omit:
                continue
            if dep is None:
                problems.append(f"{name} needs {req}, which is not installed")
            elif not req.specifier.contains(dep.version, prereleases=True):
                problems.append(f"{name} needs {req}, installed is {dep.version}")

    for path in studio_files:
        for req in read_requirements(path):
            if req.marker is not None and not req.marker.evaluate():
                continue
            dep = dists.get(canonicalize_name(req.name))
            if dep is None:
                problems.append(f"{path.name}: {req} is not installed")
            elif not req.specifier.contains(dep.version, prereleases=True):
                problems.append(f"{path.name}: {req} is not met by the installed {dep.version}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--exact", action="store_true", help="fail on installed distributions not in the lock"
    )
    parser.add_argument(
        "--omit", action="append", default=[], help="a locked distribution left out on purpose"
    )
    parser.add_argument("lock", type=Path)
    parser.add_argument("studio_requirements", type=Path, nargs="*")
    args = parser.parse_args(argv)
    problems = check(args.lock, args.studio_requirements, args.exact, frozenset(args.omit))
    for problem in problems:
        print(f"verify_env: {problem}", file=sys.stderr)
    if problems:
        print(f"verify_env: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"verify_env: the environment matches {args.lock.name} and the Studio's requirements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
