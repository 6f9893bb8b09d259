"""Fly's region codes and where each GPU kind used to be offered (FACTS.md section 2)."""

from __future__ import annotations

# The regions Fly runs today.
CURRENT_REGIONS = frozenset(
    {
        "ams", "arn", "bom", "cdg", "dfw", "ewr", "fra", "gru", "iad",
        "jnb", "lax", "lhr", "nrt", "ord", "sin", "sjc", "syd", "yyz",
    }
)  # fmt: skip

# Codes Fly still recognises but has marked deprecated; kept valid so old configs are not rejected for
# a reason Fly itself would not give.
DEPRECATED_REGIONS = frozenset(
    {
        "atl", "bog", "bos", "den", "eze", "gdl", "gig", "hkg", "mad",
        "mia", "otp", "phx", "qro", "scl", "sea", "waw", "yul",
    }
)  # fmt: skip

REGIONS = CURRENT_REGIONS | DEPRECATED_REGIONS

# Until 2026-08-01: a10, l40s and a100-40gb only in ord; a100-80gb in iad, sjc, syd and ams.
GPU_REGIONS: dict[str, frozenset[str]] = {
    "a10": frozenset({"ord"}),
    "l40s": frozenset({"ord"}),
    "a100-pcie-40gb": frozenset({"ord"}),
    "a100-sxm4-80gb": frozenset({"iad", "sjc", "syd", "ams"}),
}


def is_region(code: str) -> bool:
    return code in REGIONS
