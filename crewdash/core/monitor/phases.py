"""How long each phase (state + current task) of a crew's runs lasts, learnt from polls.

A phase change is only ever seen between two polls: the one that still saw the old phase and
the one that saw the new. Each run through a phase gives a bracket of lengths it certainly
lies in; while the brackets of every run agree, the phase is as long as their intersection
says (runs of a batch share their phases' lengths, and many brackets a poll_min wide pin it
down to a sliver). Once they do not, lengths vary and an EWMA of the best guesses, with an
EWMA of its error, takes over. A phase learnt from `trust_samples` runs whose error is at most
`trust_spread` of its length is trusted: polled once just after its expected end.

Before a phase is known, the runs furthest into it say how long it lasts at least: the ages
at which `survivors` runs were all seen still in it (the others need not look before then);
one look-out, the run in it kicked off first, watches for its end (see looks_out).

Pure and synchronous: every time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crewdash.aop.models import RunState
from crewdash.core.models import RunRecord
from crewdash.core.monitor.settings import MonitorSettings

Phase = tuple[str, str]  # (raw state, current task)


def phase_of(record: RunRecord) -> Phase:
    """The phase a record is in. Every raw spelling of "queued" is one phase: the record a
    kickoff stores says "pending" whatever word the deployment will use for it."""
    raw = "pending" if record.state is RunState.PENDING else record.raw_state
    return (raw, record.current_task or "")


def lead(poll_min: float, expected: float) -> float:
    """How long before an untrusted phase's expected end to look: bracket the end."""
    return min(0.1 * poll_min, 0.05 * expected)


@dataclass(frozen=True, slots=True)
class Dated:
    """A change of phase, dated: the new phase began at `started`, or up to `slack` later, or
    up to `early` sooner (`started` None: unknown). `started` is the best guess, the others
    what the polls allow: brackets learnt from a guess instead would exclude the truth.
    `news`: the old phase just became known or trusted."""

    started: float | None
    slack: float
    news: bool
    early: float = 0.0


@dataclass(slots=True)
class PhaseModel:
    """One crew's learnt phase lengths."""

    settings: MonitorSettings
    lengths: dict[Phase, float] = field(default_factory=dict)
    # per phase: (samples, EWMA of the absolute deviation of a sample from the estimate)
    spread: dict[Phase, tuple[int, float]] = field(default_factory=dict)
    # per phase: the lengths every run seen so far agrees with (see learn)
    bounds: dict[Phase, tuple[float, float]] = field(default_factory=dict)
    # per phase: how long each of the few runs furthest into it (and still in it) was seen
    # still in it (see survived)
    ages: dict[Phase, dict[str, float]] = field(default_factory=dict)
    # per phase: when each run in it was kicked off, and the first of them (its look-out,
    # see looks_out; found again when it left)
    kicked: dict[Phase, dict[str, float]] = field(default_factory=dict)
    first: dict[Phase, tuple[float, str]] = field(default_factory=dict)
    # (phase, first sample?) whose news was given already: once each, or a crew whose trust
    # flips would rescan its runs often
    announced: set[tuple[Phase, bool]] = field(default_factory=set)

    def expected(self, phase: Phase) -> float | None:
        return self.lengths.get(phase)

    def deviation(self, phase: Phase) -> float:
        return self.spread.get(phase, (0, 0.0))[1]

    def trusted(self, phase: Phase, expected: float | None = None) -> bool:
        expected = self.lengths.get(phase) if expected is None else expected
        if expected is None:
            return False
        n, dev = self.spread.get(phase, (0, 0.0))
        s = self.settings
        return n >= s.trust_samples and dev <= s.trust_spread * expected

    def learn(self, phase: Phase, took: float, shortest: float, longest: float) -> None:
        """One more run went through `phase` in `took` (best guess), certainly no shorter than
        `shortest` and no longer than `longest`."""
        n, dev = self.spread.get(phase, (0, 0.0))
        known = self.bounds.get(phase)
        if known is not None and max(known[0], shortest) <= min(known[1], longest):
            low, high = max(known[0], shortest), min(known[1], longest)
            self.bounds[phase] = (low, high)
            self.lengths[phase] = (low + high) / 2
            self.spread[phase] = (n + 1, (high - low) / 2)
            return
        self.bounds[phase] = (shortest, longest)
        old = self.lengths.get(phase)
        a = self.settings.phase_alpha
        self.lengths[phase] = took if old is None else (1 - a) * old + a * took
        if old is not None:
            dev = abs(took - old) if n <= 1 else (1 - a) * dev + a * abs(took - old)
        self.spread[phase] = (n + 1, dev)

    def seed(self, phase: Phase, samples: list[float]) -> None:
        """Earlier runs (the store's history) went through `phase` in `samples`: start from
        their median, with their usual deviation from it, as if learnt from that many runs
        (trusted if they agree). A phase learnt live already keeps what it learnt."""
        if phase in self.lengths or not samples:
            return
        ordered = sorted(samples)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        dev = sum(abs(x - median) for x in ordered) / len(ordered)
        self.lengths[phase] = median
        self.spread[phase] = (len(ordered), dev)
        # The lengths seen so far: a live run's bracket that agrees narrows them (and dates
        # its changes by them); one that does not starts afresh (see learn).
        self.bounds[phase] = (ordered[0], ordered[-1])
        # Known before any run is tracked: there is no news to give the runs about it.
        self.announced.update({(phase, True), (phase, False)})

    # --- the runs ahead ------------------------------------------------------------------

    def survived(self, phase: Phase, local_id: str, age: float) -> None:
        """`local_id` was certainly still in `phase` at `age`: keep the longest such ages of
        the few runs furthest into the phase."""
        keep = self.settings.survivors
        if keep <= 0 or age <= 0:
            return
        ages = self.ages.setdefault(phase, {})
        if local_id in ages or len(ages) < keep:
            ages[local_id] = max(age, ages.get(local_id, 0.0))
            return
        youngest = min(ages, key=ages.__getitem__)
        if age > ages[youngest]:
            del ages[youngest]
            ages[local_id] = age

    def left(self, phase: Phase, local_id: str) -> None:
        """Only runs still in a phase are runs ahead in it: history is what `lengths` holds."""
        for runs in (self.ages.get(phase), self.kicked.get(phase)):
            if runs is not None:
                runs.pop(local_id, None)

    def ahead(self, phase: Phase, local_id: str) -> bool:
        """`local_id` is one of the runs furthest into `phase`."""
        return local_id in self.ages.get(phase, {})

    def entered(self, phase: Phase, local_id: str, kicked: float) -> None:
        """`local_id`, kicked off at `kicked`, entered `phase`."""
        self.kicked.setdefault(phase, {})[local_id] = kicked
        first = self.first.get(phase)
        if first is not None and kicked < first[0]:
            self.first[phase] = (kicked, local_id)

    def looks_out(self, phase: Phase, local_id: str, window: float) -> bool:
        """`local_id` looks out for the end of `phase` (nothing known of it) at least every
        `window`: the one run of it kicked off first (every run when there are no runs ahead
        to follow: `survivors` 0), and only while the runs in it would all be past the end
        before a stretched look saw it: it is alone, or `survivors` others were kicked off
        within `window` of it (runs kicked off together wait on its news). By kickoff, which
        is exact, rather than by when each entered the phase, which is dated as well as its
        polls allow: a run whose change was seen late would look first, or bunched.
        Runs spread out reach the end one by one, after the one ahead learnt it: a look every
        `window` would cost requests for little (issue 17's `long` case: ~360 of them)."""
        kicked = self.kicked.get(phase)
        if self.settings.survivors <= 0 or not kicked:
            return True
        first = self.first.get(phase)
        if first is None or first[1] not in kicked:
            first = self.first[phase] = min((at, key) for key, at in kicked.items())
        if first[1] != local_id:
            return False
        close = sum(1 for at in kicked.values() if at - first[0] <= window) - 1
        return close >= min(self.settings.survivors, len(kicked) - 1)

    def survived_age(self, phase: Phase) -> float:
        """The age every one of `survivors` runs was seen still in `phase` at (0: unknown)."""
        ages = self.ages.get(phase)
        if not ages or len(ages) < self.settings.survivors:
            return 0.0
        return min(ages.values())

    # --- dating a change -----------------------------------------------------------------

    def date_change(
        self,
        phase: Phase,
        started: float | None,
        slack: float,
        last_poll: float | None,
        sent_at: float,
        now: float,
        poll_min: float,
        *,
        early: float = 0.0,
    ) -> Dated:
        """A run in `phase` (begun at `started`, or up to `slack` later) was seen in another
        by the poll sent at `sent_at` and answered at `now`; the previous poll, sent at
        `last_poll`, saw `phase`. Learn the old phase's length and date the new one. The old
        phase may have begun up to `early` before `started`.

        The change came after `last_poll` and before `now`. Without more to go on, take the
        middle, clamped to one poll_min back: after a long quiet interval the middle is far
        too early, and a consistent error cancels out of the lengths learnt."""
        lo = last_poll
        at = sent_at if lo is None else max((lo + sent_at) / 2, sent_at - poll_min)
        if started is None or lo is None or sent_at <= started:
            return Dated(
                at if lo is not None else None, max(0.0, sent_at - at), False, _early(at, lo)
            )
        s_lo, s_hi = started - early, started + slack
        prior = self.lengths.get(phase)  # before this sample is learnt
        took = at - started
        narrow = sent_at - lo <= poll_min * (1 + self.settings.jitter)
        if not narrow and prior is not None and self.trusted(phase, prior):
            # A trusted phase is polled once just after its expected end, so the bracket is
            # wide and its middle says little: move the estimate only as far as polls demand.
            took = min(max(prior, lo - started), sent_at - started)
        news = took > 0 and self._learn_news(phase, prior, took, lo - s_hi, now - s_lo)
        known = self.bounds.get(phase)
        if known is not None and self.spread.get(phase, (0, 0.0))[0] > 1:
            # The phase's length is pinned down: so is the change, within the polls.
            first, last = max(lo, s_lo + known[0]), min(now, s_hi + known[1])
            if first <= last:
                return Dated(first, last - first, news)
        if prior is not None and lo <= started + prior <= sent_at:
            at = started + prior  # the old phase's length agrees with the polls: date by it
        return Dated(at, max(0.0, sent_at - at), news, _early(at, lo))

    def _learn_news(
        self, phase: Phase, prior: float | None, took: float, shortest: float, longest: float
    ) -> bool:
        """Learn one sample; True if `phase` just became known or trusted (once each)."""
        was = prior is not None and self.trusted(phase, prior)
        self.learn(phase, took, shortest, longest)
        news = prior is None or (not was and self.trusted(phase))
        if not news or (phase, prior is None) in self.announced:
            return False
        self.announced.add((phase, prior is None))
        return True


def _early(at: float, last_poll: float | None) -> float:
    """How much sooner than `at` a change seen after `last_poll` may have come."""
    return 0.0 if last_poll is None else max(0.0, at - last_poll)


__all__ = ["Dated", "Phase", "PhaseModel", "lead", "phase_of"]
