"""When to look at a run next: pure, synchronous policy over its timing and its crew's phases.

An interval starts at the crew's `poll_min`, stretches while nothing changes up to `poll_max`
and resets on a change, with jitter. Polls are spent where they can see something: once a
phase is trusted, one poll just after its expected end; before that, a look just before the
expected end (bracketing it), and in a phase no run has finished yet the runs behind follow
the few ahead instead of each exploring it, while one look-out of runs kicked off together
looks at least every explore_max poll_min. poll_max bounds every wait, so a change the
learning did not expect is seen at most that late.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from crewdash.core.config.model import CrewConfig
from crewdash.core.monitor.phases import Phase, PhaseModel, lead
from crewdash.core.monitor.settings import MonitorSettings


@dataclass(slots=True, kw_only=True)
class Timing:
    """What the planner knows of one run (monotonic times)."""

    interval: float
    key: str = ""  # the run's local id (the runs ahead in a phase are known by it)
    due: float = 0.0  # when its next poll is planned
    last_poll: float | None = None
    phase: Phase = ("", "")
    phase_started: float | None = None  # estimated start of the current phase ...
    start_slack: float = 0.0  # ... which may have been up to this much later
    start_early: float = 0.0  # ... or up to this much sooner (see phases.Dated)
    urgent: bool = False  # asked for now (a refresh, a webhook): never put off


class Planner:
    """The policy; `rng` jitters intervals so runs kicked off together spread out."""

    def __init__(self, settings: MonitorSettings, rng: random.Random) -> None:
        self.settings = settings
        self.rng = rng

    def jittered(self, delay: float) -> float:
        return delay * (1 + self.rng.uniform(-self.settings.jitter, self.settings.jitter))

    def stretch(self, t: Timing, cfg: CrewConfig) -> float:
        """A quiet poll (or a failed one): wait longer next time."""
        t.interval = min(t.interval * self.settings.stretch, cfg.poll_max)
        return self.jittered(t.interval)

    def aim(self, t: Timing, model: PhaseModel, poll_min: float, expected: float) -> float:
        """When to look at a run in a trusted phase: after its expected end by the latest the
        phase may have started plus its usual error, so one poll sees the change; at least a
        sliver of poll_min (timers and the server's clock are not exact), at most poll_min
        (a poll that misses is followed by one every poll_min)."""
        assert t.phase_started is not None
        dev = model.deviation(t.phase)
        margin = min(t.start_slack + dev + self.settings.aim_floor * poll_min, poll_min)
        return t.phase_started + expected + margin

    def looks_out(self, t: Timing, model: PhaseModel, cfg: CrewConfig) -> bool:
        """`t` is the look-out of a phase nothing is known of (see PhaseModel.looks_out)."""
        window = self.settings.explore_max * cfg.poll_min
        return (
            window > 0
            and model.expected(t.phase) is None
            and model.looks_out(t.phase, t.key, window)
        )

    def follow_until(self, t: Timing, model: PhaseModel, now: float) -> float:
        """The runs ahead were all seen still in this phase at an age: take that as this run's
        own look at that age, and stretch from it as after any quiet poll. The runs ahead
        stretch on their own, or those behind would wait on runs that wait in turn; by id,
        not by age: runs kicked off together are all as old as the runs ahead were when last
        seen. (The look-out of such runs follows nobody: see looks_out.)"""
        assert t.phase_started is not None
        if model.ahead(t.phase, t.key):
            return now
        return t.phase_started + self.settings.stretch * model.survived_age(t.phase)

    def follow(
        self, t: Timing, model: PhaseModel, cfg: CrewConfig, now: float, delay: float, waiting: bool
    ) -> float:
        """Not before the crew's runs ahead in this phase say a poll could see something new."""
        if t.phase_started is None or waiting:
            return delay
        return max(delay, min(cfg.poll_max, self.follow_until(t, model, now) - now))

    def replan(
        self, t: Timing, model: PhaseModel, cfg: CrewConfig, now: float, waiting: bool
    ) -> float | None:
        """A later due time, if what the crew learnt since this poll was planned says the poll
        would only see the same phase again (its length became trusted; the runs ahead were
        all seen still in it at a greater age); None: poll now. Never past poll_max after the
        run's last poll. `waiting`: the run awaits human input (no phase end to aim at)."""
        if t.urgent or t.last_poll is None or t.phase_started is None or waiting:
            return None
        expected = model.expected(t.phase)
        if expected is not None and model.trusted(t.phase, expected):
            target = self.aim(t, model, cfg.poll_min, expected)
        elif self.looks_out(t, model, cfg):
            return None
        else:
            target = self.follow_until(t, model, now)
        target = min(target, t.last_poll + cfg.poll_max)
        return target if target > now + self.settings.slack else None

    def next_delay(
        self,
        t: Timing,
        model: PhaseModel,
        cfg: CrewConfig,
        now: float,
        *,
        changed: bool,
        waiting: bool,
    ) -> float:
        """The wait after a poll answered at `now` (`changed`: it saw a change)."""
        if changed:
            t.interval = cfg.poll_min
        else:
            t.interval = min(t.interval * self.settings.stretch, cfg.poll_max)
        expected = model.expected(t.phase)
        if not waiting and self.looks_out(t, model, cfg):
            # Nothing known of this phase: no end to aim at, so its look-out stays close (and
            # follows no run: the others wait on it).
            t.interval = min(t.interval, self.settings.explore_max * cfg.poll_min)
            return self.jittered(t.interval)
        delay = t.interval
        if expected is None or t.phase_started is None or waiting:
            return self.follow(t, model, cfg, now, self.jittered(delay), waiting)
        end = t.phase_started + expected
        if model.trusted(t.phase, expected):
            # A well-known end: one poll just after it sees the change (a poll before it would
            # only cost a request and a poll_min wait). Not jittered: the aims are spread by
            # the runs' own starts. poll_max still bounds how late an early change is seen.
            aim = self.aim(t, model, cfg.poll_min, expected)
            if now < aim:
                return min(cfg.poll_max, aim - now)
        else:
            before = lead(cfg.poll_min, expected)  # learning: bracket the end
            if now < end - before:
                delay = min(delay, max(0.05, end - before - now))
                return self.follow(t, model, cfg, now, self.jittered(delay), waiting)
        # Past when it should have changed: look often, then less so the further past the end
        # it gets (an estimate off by 30 s must not cost 30 polls at poll_min), stretching
        # from the expected end rather than from the phase's start.
        late = max(0.0, now - end)
        delay = min(delay, max(cfg.poll_min, (self.settings.stretch - 1) * late))
        return self.jittered(delay)

    def may_join(
        self, t: Timing, model: PhaseModel, cfg: CrewConfig, now: float, due: float, waiting: bool
    ) -> bool:
        """Whether `t`'s poll due at `due` may go at `now`, with polls going anyway: it is a
        loose one (a stretch or a follow in a phase with no end to aim at and not the
        look-out's, or a run awaiting a human; not urgent, not the first look at a run
        adopted from the store, nothing learnt since it was planned would put it off) and it
        goes early by at most `coalesce` seconds and `coalesce_share` of its wait (its wait
        since the last look, or since the kickoff's answer of a run just accepted)."""
        s = self.settings
        if t.urgent or t.last_poll is None:
            return False
        if due - now > min(s.coalesce, s.coalesce_share * (due - t.last_poll)):
            return False
        if not waiting and (model.expected(t.phase) is not None or self.looks_out(t, model, cfg)):
            return False
        later = self.replan(t, model, cfg, now, waiting)  # (a follow is re-planned to its due)
        return later is None or later <= due + s.slack

    def news_due(self, t: Timing, model: PhaseModel, cfg: CrewConfig, now: float) -> float | None:
        """`t`'s phase just became known or trusted: when the run should be looked at now
        (None: its phase is still unknown)."""
        expected = model.expected(t.phase)
        if expected is None or t.phase_started is None:
            return None
        if model.trusted(t.phase, expected):
            return max(self.aim(t, model, cfg.poll_min, expected), now)
        end = t.phase_started + expected
        return max(end - lead(cfg.poll_min, expected), now)


__all__ = ["Planner", "Timing"]
