"""The log-spaced duration bins of the hourly crew buckets (`crew_hour_bins`, migration v8).

Bin 0 holds durations under `BASE` seconds; bin k (1 ≤ k < LAST) holds
[BASE·2^((k-1)/STEPS), BASE·2^(k/STEPS)); bin LAST holds everything longer (about 41 days).
A percentile read from the bins is the geometric middle of the bin holding the exact
(nearest-rank) percentile, so it is within ±9 % of it (2^(1/8) - 1), or within 0.125 s for
anything under 0.25 s; `last` bin: its lower bound.

Frozen: the v8 triggers were written with these bounds. Changing them needs a new migration
that rebuilds the bins.
"""

from __future__ import annotations

from bisect import bisect_right

BASE = 0.25  # seconds: the upper bound of bin 0
STEPS = 4  # bins per doubling
LAST = 96  # the overflow bin
#: upper bounds of bins 0 … LAST-1 (bin LAST has none)
BOUNDS: tuple[float, ...] = tuple(BASE * 2 ** (k / STEPS) for k in range(LAST))
RELATIVE_ERROR = 2 ** (1 / (2 * STEPS)) - 1  # ≈ 0.0905
ABSOLUTE_ERROR = BASE / 2  # for bin 0


def bin_of(seconds: float) -> int:
    """The bin of a duration (negative ones, from clock skew, fall in bin 0)."""
    return bisect_right(BOUNDS, seconds)


def middle(index: int) -> float:
    """What a bin stands for: its geometric middle (bin 0: BASE/2; bin LAST: its lower bound)."""
    if index <= 0:
        return BASE / 2
    if index >= LAST:
        return BOUNDS[-1]
    return BOUNDS[index - 1] * 2 ** (1 / (2 * STEPS))


def bin_sql(expr: str) -> str:
    """A SQL expression giving the bin of `expr` (same bounds as `bin_of`, written as exact
    float literals: SQLite has no log() everywhere)."""
    cases = " ".join(f"WHEN ({expr}) < {bound!r} THEN {k}" for k, bound in enumerate(BOUNDS))
    return f"(CASE {cases} ELSE {LAST} END)"
