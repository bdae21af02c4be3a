"""Reading a service's own ``/metrics`` page: the Prometheus text format, summed and
interpolated as Prometheus itself does (for the demo, the benchmarks and the tests)."""

from __future__ import annotations

import contextlib

__all__ = ["histogram_buckets", "histogram_quantile", "metric_total", "parse_metrics"]


def parse_metrics(text: str) -> dict[str, float]:
    """``name{labels}`` -> value for every sample of an exposition."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                samples[name] = float(value)
    return samples


def metric_total(samples: dict[str, float], name: str) -> float:
    """The sum of every sample of ``name``, whatever its labels."""
    return sum(v for k, v in samples.items() if k == name or k.startswith(name + "{"))


def histogram_buckets(samples: dict[str, float], name: str) -> list[tuple[float, float]]:
    """(upper bound, cumulative count) of an unlabelled histogram, sorted by bound."""
    prefix = name + '_bucket{le="'
    buckets = [(float(k[len(prefix) : -2]), v) for k, v in samples.items() if k.startswith(prefix)]
    return sorted(buckets)


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Like Prometheus' ``histogram_quantile``: linear interpolation inside the bucket."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, previous = 0.0, 0.0
    for bound, cumulative in buckets:
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            inside = cumulative - previous
            return lower + (bound - lower) * ((rank - previous) / inside if inside else 1.0)
        lower, previous = bound, cumulative
    return lower
