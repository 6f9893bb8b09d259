"""Space hardware flavors the stand-in offers, as `GET /api/spaces/hardware` lists them.

GPU rows are the table in FACTS.md section 4 (Hub docs, late 2026: $/hour, billed per minute while Starting or
Running). CPU rows and ephemeral disk sizes other than l40sx1 (~380 GB) and a10g-large (~200 GB) come from the
same public pricing page and were not checked against the live API. Other `SpaceHardware` values (T4, L4x4,
multi-GPU, RTX Pro) are not offered here: requesting one is a 400 that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FREE_FLAVOR = "cpu-basic"
FREE_SLEEP_SECONDS = 48 * 3600  # cpu-basic sleeps after 48 h of inactivity; not configurable
ZERO_GPU = "zero-a10g"  # Gradio-only


@dataclass(frozen=True)
class Flavor:
    name: str
    pretty_name: str
    cpus: int
    ram_gb: int
    disk_gb: int
    usd_per_hour: float
    gpu_model: str | None = None
    vram_gb: int | None = None

    @property
    def paid(self) -> bool:
        return self.usd_per_hour > 0

    def render(self) -> dict[str, Any]:
        per_minute = self.usd_per_hour / 60
        out: dict[str, Any] = {
            "name": self.name,
            "prettyName": self.pretty_name,
            "cpu": f"{self.cpus} vCPU",
            "ram": f"{self.ram_gb} GB",
            "ephemeralStorage": f"{self.disk_gb} GB",
            "accelerator": None,
            "unitCostMicroUSD": round(per_minute * 1_000_000),
            "unitCostUSD": round(per_minute, 6),
            "unitLabel": "minute",
        }
        if self.gpu_model is not None:
            out["accelerator"] = {
                "type": "gpu",
                "model": self.gpu_model,
                "quantity": "1",
                "vram": f"{self.vram_gb} GB",
                "manufacturer": "Nvidia",
            }
        return out


FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (
        Flavor("cpu-basic", "CPU basic", 2, 16, 50, 0.0),
        Flavor("cpu-upgrade", "CPU upgrade", 8, 32, 50, 0.03),
        Flavor("a10g-small", "Nvidia A10G - small", 4, 15, 110, 1.00, "A10G", 24),
        Flavor("a10g-large", "Nvidia A10G - large", 12, 46, 200, 1.50, "A10G", 24),
        Flavor("l4x1", "1x Nvidia L4", 8, 30, 400, 0.80, "L4", 24),
        Flavor("l40sx1", "1x Nvidia L40S", 8, 62, 380, 1.80, "L40S", 48),
        Flavor("a100-large", "Nvidia A100 - large", 12, 142, 1000, 2.50, "A100", 80),
    )
}


def check_flavor(name: object, sdk: str | None) -> str | None:
    """None when `name` can run a Space with this SDK here, else the reason it cannot."""
    if not isinstance(name, str) or not name:
        return "hardware flavor must be a non-empty string"
    if name == ZERO_GPU and sdk != "gradio":
        return "ZeroGPU hardware (zero-a10g) is only available for Gradio Spaces"
    if name not in FLAVORS:
        return f"hardware flavor {name!r} is not offered by the Hub stand-in (offered: {', '.join(FLAVORS)})"
    return None
