"""What a stack costs, in one shape for every platform: per running hour, per idle month, per typical month."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CostEstimate:
    """US dollars. `per_idle_month` is what the stack costs while nothing runs (storage, stopped disks).

    A figure is None where it cannot be known (a cluster whose node price the stack does not give)."""

    per_running_hour: float | None
    per_idle_month: float | None
    busy_hours_per_month: int
    prices_as_of: str
    source: str
    # Named parts of the two totals, e.g. {"gpu_hour": 0.75, "volumes_month": 7.5}.
    breakdown: dict[str, float] = field(default_factory=dict)

    @property
    def per_month_at_busy_hours(self) -> float | None:
        """The idle month plus the busy hours; busy hours replace idle ones, a difference below a cent."""
        if self.per_running_hour is None or self.per_idle_month is None:
            return None
        return self.per_idle_month + self.busy_hours_per_month * self.per_running_hour

    def as_output(self) -> dict[str, object]:
        def rounded(value: float | None) -> float | str:
            return "unknown" if value is None else round(value, 4)

        return {
            "per_running_hour": rounded(self.per_running_hour),
            "per_idle_month": rounded(self.per_idle_month),
            "busy_hours_per_month": self.busy_hours_per_month,
            "per_month_at_busy_hours": rounded(self.per_month_at_busy_hours),
            "prices_as_of": self.prices_as_of,
            "source": self.source,
            **{key: round(value, 4) for key, value in self.breakdown.items()},
        }
