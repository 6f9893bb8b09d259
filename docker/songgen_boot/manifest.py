"""What the volume holds and has verified, one manifest per repo under /data/.songgen/manifests."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

MANIFEST_FORMAT = 1


@dataclasses.dataclass
class Target:
    """One Hugging Face repo and where it lives on the volume."""

    name: str  # "runtime" or a model id
    repo: str
    dest: Path
    manifest_path: Path


@dataclasses.dataclass
class Manifest:
    repo: str
    revision: str
    commit: str = ""
    complete: bool = False
    files: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    overlays: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            return None
        return cls(
            repo=str(data.get("repo", "")),
            revision=str(data.get("revision", "")),
            commit=str(data.get("commit", "")),
            complete=bool(data.get("complete", False)),
            files={str(k): dict(v) for k, v in dict(data.get("files", {})).items()},
            overlays={str(k): dict(v) for k, v in dict(data.get("overlays", {})).items()},
        )

    def save(self, path: Path) -> None:
        data = {
            "format": MANIFEST_FORMAT,
            "repo": self.repo,
            "revision": self.revision,
            "commit": self.commit,
            "complete": self.complete,
            "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 - must run on 3.10
            "files": dict(sorted(self.files.items())),
            "overlays": dict(sorted(self.overlays.items())),
        }
        atomic_write(path, json.dumps(data, indent=1) + "\n")

    def total_bytes(self) -> int:
        return sum(int(entry.get("size", 0)) for entry in self.files.values())


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
