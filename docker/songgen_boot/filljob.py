"""The contract with the fill process (``songgen_fill``): the job it gets as JSON on stdin, the result it prints.

The entrypoint runs on the Studio's Python set, which pins an old ``huggingface-hub``; the fill runs on
an environment of its own with a current one (``SONGGEN_FILL_PYTHON``). Everything the fill needs is
in the job; the token is not: it travels in the fill process's ``HF_TOKEN``, never on a command line.
The fill writes what it verified into the manifests on the volume and ends its output with one result
line, which the entrypoint reads and does not relay.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from .manifest import Target

RESULT_MARKER = "songgen-fill-result "
# Result statuses, each mapped by the entrypoint to the error (and exit code) of a boot that fails.
OK, NO_SPACE, HUB_ERROR, STOPPED = "ok", "no_space", "hub_error", "stopped"


def incomplete_dir(data_dir: Path) -> Path:
    """Where the fill keeps files it has not finished (and what of each it has written)."""
    return data_dir / ".songgen" / "incomplete"


@dataclasses.dataclass(frozen=True)
class FillJob:
    targets: tuple[Target, ...]
    endpoint: str
    revision: str
    data_dir: Path
    verify: str  # "size" or "full": how a file already on the volume is trusted
    streams: int  # parallel connections
    retries: int  # attempts per file
    retry_base_seconds: float
    http_timeout_seconds: float
    progress_seconds: float
    free_space_margin_bytes: int
    assume_free_bytes: int | None

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["data_dir"] = str(self.data_dir)
        data["targets"] = [
            {"name": t.name, "repo": t.repo, "dest": str(t.dest), "manifest_path": str(t.manifest_path)}
            for t in self.targets
        ]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> FillJob:
        data: dict[str, Any] = json.loads(text)
        targets = tuple(
            Target(t["name"], t["repo"], Path(t["dest"]), Path(t["manifest_path"]))
            for t in data.pop("targets")
        )
        data_dir = Path(data.pop("data_dir"))
        return cls(targets=targets, data_dir=data_dir, **data)


@dataclasses.dataclass(frozen=True)
class FillResult:
    status: str  # OK, NO_SPACE, HUB_ERROR or STOPPED
    message: str = ""
    downloaded_bytes: int = 0

    def line(self) -> str:
        return RESULT_MARKER + json.dumps(dataclasses.asdict(self))

    @classmethod
    def parse(cls, line: str) -> FillResult | None:
        """The result if line is the fill's result line, else None."""
        if not line.startswith(RESULT_MARKER):
            return None
        try:
            data = json.loads(line[len(RESULT_MARKER) :])
            return cls(
                str(data["status"]), str(data.get("message", "")), int(data.get("downloaded_bytes", 0))
            )
        except (ValueError, KeyError, TypeError):
            return None
