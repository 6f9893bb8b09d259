"""Git path rules: valid paths in a repo, `.gitattributes` LFS patterns and `.gitignore` matching.

Patterns follow git's glob rules where it matters here: a pattern without a slash matches a name at any depth,
one with a slash is anchored at the root, `*` stays within a directory, `**` crosses directories, a trailing
slash matches directories only. Negated patterns (`!pattern`) are not modelled and refused.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hub_emulator.errors import HubError, bad_request, not_modelled

# The `.gitattributes` the Hub writes into a new repo (its LFS patterns, abridged to the common ones).
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
        "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
        "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*",
        "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
    )
)  # fmt: skip


def check_path(path: str) -> str:
    """A path a commit may write, or 400 naming what is wrong with it."""
    if not path or path.startswith("/") or "\\" in path:
        raise bad_request(f"Invalid path in repo: {path!r} (must be relative, with '/' separators)")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise bad_request(f"Invalid path in repo: {path!r} (empty, '.' or '..' component)")
    if parts[0] == ".git":
        raise bad_request(f"Invalid path in repo: {path!r} (the .git folder cannot be written)")
    return path


def lfs_patterns(gitattributes: str) -> list[str]:
    out = []
    for line in gitattributes.splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#") and "filter=lfs" in fields[1:]:
            out.append(fields[0])
    return out


def ignore_patterns(gitignore: str) -> list[str]:
    out = []
    for raw in gitignore.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            raise not_modelled(f"negated .gitignore pattern {line!r}")
        out.append(line)
    return out


def attribute_matches(pattern: str, path: str) -> bool:
    """A `.gitattributes` pattern applies to files only."""
    anchored, regex = _compile(pattern.rstrip("/"))
    return bool(regex.fullmatch(path if anchored else path.rsplit("/", 1)[-1]))


def ignored(patterns: list[str], path: str) -> bool:
    """Whether `.gitignore` patterns exclude `path` (itself, or a directory it is in)."""
    parts = path.split("/")
    dirs = ["/".join(parts[:i]) for i in range(1, len(parts))]
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        anchored, regex = _compile(pattern.rstrip("/"))
        candidates = dirs if dir_only else [*dirs, path]
        for candidate in candidates:
            if regex.fullmatch(candidate if anchored else candidate.rsplit("/", 1)[-1]):
                return True
    return False


@lru_cache(maxsize=512)
def _compile(pattern: str) -> tuple[bool, re.Pattern[str]]:
    anchored = "/" in pattern
    body = pattern.lstrip("/")
    try:
        return anchored, re.compile(_glob_to_regex(body))
    except re.error as exc:
        raise HubError(400, f"Invalid pattern {pattern!r}: {exc}") from None


def _glob_to_regex(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("/.*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 1 :]:
            close = glob.index("]", i + 1)
            inner = glob[i + 1 : close]
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = close + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)
