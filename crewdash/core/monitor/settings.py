"""The monitor's knobs, in one frozen value shared by its parts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    max_in_flight: int = 16  # the global cap on status requests in flight
    # Concurrency only hides the server's latency: the client's own work per request is
    # about `request_cost` seconds of CPU, so more than latency / request_cost requests in
    # flight add no throughput, only connections (each a socket here and on the server, made
    # and kept alive for nothing). The cap in force follows the lowest latency seen lately,
    # between these bounds.
    min_in_flight: int = 4
    request_cost: float = 0.001
    latency_window: float = 5.0  # seconds over which that lowest latency is taken
    stretch: float = 1.5  # interval multiplier while nothing changes
    jitter: float = 0.1  # ± fraction of each interval
    slack: float = 0.005  # dispatch entries due this soon together (fewer wake-ups)
    offline_after_failures: int = 5  # sent requests failed in a row ...
    offline_after_seconds: float = 30.0  # ... with no success for this long: offline
    flaky_window: int = 20  # the last this many requests of a crew ...
    flaky_after: int = 2  # ... of which at least this many failed: "flaky" (SLOW)
    slow_after: float = 2.0  # status latency (EWMA, seconds) above which a crew is "slow"
    stall_factor: float = 3.0  # stalled: no progress for this times the crew's usual run time
    stall_floor: float = 120.0  # ... and never under this many seconds
    stall_default: float = 1800.0  # until `stall_min_samples` completed runs were seen
    stall_min_samples: int = 3
    phase_alpha: float = 0.3  # EWMA weight of a newly observed phase duration
    # A phase learnt from this many samples, whose lengths deviate (EWMA of |error|) by at most
    # this fraction, is trusted: no stretching polls before its expected end, only poll_max.
    trust_samples: int = 3
    trust_spread: float = 0.15
    # A trusted phase is polled this fraction of poll_min (or its usual error, if larger)
    # after its expected end.
    aim_floor: float = 0.05
    # Before a phase is trusted: once this many runs of a crew were all seen still in a phase
    # at an age, the crew's other runs in that phase are not polled before that age (only the
    # runs ahead explore; the others follow). 0 turns this off. poll_max still bounds every
    # wait, so a run whose phase is shorter than its fellows' is seen at most that late.
    survivors: int = 3
    # A phase nothing is known of (no earlier run, no run ahead has left it) is polled at
    # least every this many poll_min by one look-out, the run in it kicked off first, when
    # it is alone or `survivors` others were kicked off within that interval of it: stretching
    # to poll_max there is what made a fresh batch's changes seen 7.5 s late on median
    # (issue 17). The other runs follow; runs spread out reach the end one by one, after the
    # one ahead learnt it (see PhaseModel.looks_out). 0 turns this off.
    explore_max: float = 2.0
    # A wake-up that sends polls anyway takes along the loose ones due within this many seconds
    # and within `coalesce_share` of their wait: polls of runs stretching or following in a
    # phase nothing is known of, or awaiting a human. Sent a little early, they cost no
    # wake-up, transaction and turn of the loop of their own (issue 17: an idle dashboard's
    # engine spent most of its CPU per poll on those). An aimed poll, the look-out's, an
    # urgent one never moves, and none moves later (see Planner.may_join); a crew with a
    # learnt rate limit takes none along. 0 turns it off.
    coalesce: float = 0.5
    coalesce_share: float = 0.1


__all__ = ["MonitorSettings"]
