"""The per-crew pacer: a rate learnt from 429s, lowered by a factor on each later 429 (not
cut to whatever little was sent lately), kept in the store for the next process."""

from __future__ import annotations

from crewdash.core.runs.pacer import Pacer, load_rate
from crewdash.core.runs.ratelimit import CrewRate
from crewdash.core.store.database import RunStore
from engine.fakes import ManualClock


def test_a_later_429_lowers_the_rate_by_a_factor_not_to_the_recent_demand() -> None:
    rate = CrewRate()
    for n in range(40):  # 40 requests in two seconds, then a 429
        assert rate.admit(n * 0.05) == 0.0
    first = rate.learn_429(2.0, None)
    assert 15.0 <= first <= 20.0
    for t in (10.0, 12.0):  # a quiet stretch: a request now and then
        rate.admit(t)
    second = rate.learn_429(12.1, None, sent_at=12.0)
    assert second == first * rate.safety  # not ~0.4/s, the demand of the quiet stretch


async def test_a_learnt_rate_is_kept_for_the_next_process(store: RunStore) -> None:
    clock = ManualClock()
    pacer = Pacer("c", clock=clock, store=store)
    for _ in range(30):
        assert await pacer.wait() is not None
    learnt = pacer.learn_429(1.0, clock.monotonic())
    assert load_rate(store, "c", clock.time()) == learnt
    fresh = Pacer("c", clock=clock, store=store)  # the next command on this data dir
    assert fresh.learnt_rate == learnt
    assert load_rate(store, "other", clock.time()) is None


def test_the_first_429_learns_what_was_sent_before_it_not_what_is_still_on_the_wire() -> None:
    rate = CrewRate()
    for round_ in range(3):  # 10 in flight, answered in 100 ms: a round every 100 ms
        for n in range(10):
            assert rate.admit(round_ * 0.1 + n * 1e-4) == 0.0
    # a 20/s server took the first two rounds and refuses all of the third; the first 429
    # comes back while the rest of that round is still on the wire
    learnt = rate.learn_429(0.3, 1.0, sent_at=0.2)
    assert learnt == 20 * rate.safety  # not 29 (everything sent, less the one refused)


async def test_a_429_before_the_server_took_any_of_ours_learns_no_rate(store: RunStore) -> None:
    """A batch started while another one (or a dashboard) filled the server's window gets a
    429 for its first requests. That says nothing of the crew's rate: learnt from it, the rate
    was the floor (0.2/s) and was kept for the next process too, so a later batch of 80 rows
    took over 6 minutes (the hang of tests/integration/cli/test_cli_batch_crash.py)."""
    clock = ManualClock()
    pacer = Pacer("c", clock=clock, store=store)
    sent_at = await pacer.wait()
    assert pacer.learn_429(2.0, sent_at) is None  # only a pause: the server said when
    assert pacer.learnt_rate is None and load_rate(store, "c", clock.time()) is None
    assert pacer.rate.blocked_until == clock.monotonic() + 2.0
    await clock.advance(2.0)
    for _ in range(20):  # then ours go through: twenty, and a 429 teaches a rate from them
        assert await pacer.wait() is not None
        await clock.advance(0.05)
    learnt = pacer.learn_429(1.0, clock.monotonic() - 0.05)
    assert learnt is not None and learnt > 1.0
    assert load_rate(store, "c", clock.time()) == learnt
