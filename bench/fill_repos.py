"""The repos the fill benchmark serves: a runtime bundle and a model shaped like the real ones, scaled down.

The real `lglg666/SongGeneration-Runtime` (~15 GB) is a few multi-GB checkpoints under `ckpt/`, some
tens-of-MB weights and tokenizer files, and hundreds of small source and config files under
`third_party/`; `lglg666/SongGeneration-base` (~11 GB) is one `model.pt` and a `config.yaml`. Here the
big files are about a tenth of their size (`scale` multiplies them), the small files keep theirs, so
the fill meets both limits it meets for real: per-connection bandwidth on the big files, per-request
latency on the many small ones. Content is generated (never held in memory for the big files) and
deterministic, so two runs fetch the same bytes.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass

from hub_emulator import SyntheticContent, synthetic

RUNTIME_REPO = "lglg666/SongGeneration-Runtime"
BASE_REPO = "lglg666/SongGeneration-base"
MB = 1000**2

# (path, size in bytes at scale 1): the checkpoints, each served through LFS.
RUNTIME_LARGE = (
    ("ckpt/encode-s12k.pt", 420 * MB),
    ("ckpt/model_septoken/model_2.safetensors", 460 * MB),
    ("ckpt/model_1rvq/model_2_fixed.safetensors", 340 * MB),
    ("ckpt/vae/autoencoder_music_1320k.ckpt", 160 * MB),
    ("third_party/demucs/ckpt/htdemucs.pth", 42 * MB),
    ("third_party/hub/content-vec-best/pytorch_model.bin", 38 * MB),
    ("third_party/Qwen2-7B/tokenizer.json", 7 * MB),
)
BASE_LARGE = (("model.pt", 1_250 * MB),)
SMALL_FILE_COUNT = 320  # source, config and tokenizer files of the runtime bundle
SMALL_DIRS = (
    "third_party/demucs/models",
    "third_party/demucs/ckpt",
    "third_party/stable_audio_tools/models",
    "third_party/stable_audio_tools/training",
    "third_party/Qwen2-7B",
    "ckpt/vae",
    "ckpt/model_septoken",
    "tools",
)
SMALL_SUFFIXES = (".py", ".py", ".py", ".yaml", ".json", ".txt")


@dataclass(frozen=True)
class Repo:
    repo_id: str
    files: dict[str, bytes | SyntheticContent]
    lfs: tuple[str, ...]  # the files the Hub serves through LFS (a redirect to its CDN)

    @property
    def total_bytes(self) -> int:
        return sum(len(c) if isinstance(c, bytes) else c.size for c in self.files.values())


def _small_files(rng: random.Random) -> dict[str, bytes | SyntheticContent]:
    """Text files from a few hundred bytes to ~60 kB, as source trees have (median a few kB)."""
    files: dict[str, bytes | SyntheticContent] = {}
    for index in range(SMALL_FILE_COUNT):
        folder = SMALL_DIRS[index % len(SMALL_DIRS)]
        suffix = SMALL_SUFFIXES[index % len(SMALL_SUFFIXES)]
        size = min(int(rng.lognormvariate(8.3, 1.1)), 60_000)
        text = base64.b64encode(rng.randbytes(size * 3 // 4 + 1))[:size]
        files[f"{folder}/file_{index:03d}{suffix}"] = text + b"\n"
    return files


def bench_repos(scale: float = 1.0) -> list[Repo]:
    """The runtime bundle and the base model; `scale` multiplies the size of every large file."""
    rng = random.Random(2026)
    runtime: dict[str, bytes | SyntheticContent] = _small_files(rng)
    for seed, (path, size) in enumerate(RUNTIME_LARGE, start=1):
        runtime[path] = synthetic(max(1, int(size * scale)), seed=seed)
    base: dict[str, bytes | SyntheticContent] = {"config.yaml": b"max_dur: 150\nlm:\n  dim: 1536\n"}
    for seed, (path, size) in enumerate(BASE_LARGE, start=len(RUNTIME_LARGE) + 1):
        base[path] = synthetic(max(1, int(size * scale)), seed=seed)
    return [
        Repo(RUNTIME_REPO, runtime, tuple(path for path, _ in RUNTIME_LARGE)),
        Repo(BASE_REPO, base, tuple(path for path, _ in BASE_LARGE)),
    ]
