"""GcPacer: full collections only when the operator pauses (or after max_period)."""

from __future__ import annotations

import gc

from crewdash.tui.gc_pacer import GcPacer


class FakeGc:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.live = 1000  # objects that would be frozen by the next freeze
        self.frozen = 0

    def freeze(self) -> None:
        self.calls.append("freeze")
        self.frozen = self.live

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")
        self.frozen = 0

    def collect(self) -> int:
        self.calls.append("collect")
        if not self.frozen:
            self.live = 1000  # a full collection: the frozen cycles are gone too
        return 0

    def get_objects(self) -> list[None]:
        return [None] * (self.live - self.frozen)  # the unfrozen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make() -> tuple[GcPacer, FakeGc, Clock]:
    fake, clock = FakeGc(), Clock()
    pacer = GcPacer(period=60, idle=3, max_period=600, max_growth=5000, clock=clock, collector=fake)
    return pacer, fake, clock


def test_nothing_happens_before_start() -> None:
    pacer, fake, clock = make()
    clock.now += 1000
    assert pacer.tick() is False and fake.calls == []


def test_between_full_collections_a_tick_freezes_the_survivors() -> None:
    pacer, fake, clock = make()
    pacer.start()
    clock.now += 30
    assert pacer.tick() is False
    assert fake.calls == ["freeze", "collect", "freeze"]  # collects the unfrozen only


def test_a_full_collection_waits_for_a_pause_in_the_input() -> None:
    pacer, fake, clock = make()
    pacer.start()
    clock.now += 61
    pacer.input_seen()
    clock.now += 1
    assert pacer.tick() is False  # the operator is typing
    clock.now += 3
    assert pacer.tick() is True
    assert fake.calls[-3:] == ["unfreeze", "collect", "freeze"]
    assert pacer.full_collections == 1
    clock.now += 30
    assert pacer.tick() is False  # not again before `period`


def test_without_any_pause_a_full_collection_still_runs_after_max_period() -> None:
    pacer, _, clock = make()
    pacer.start()
    for _ in range(120):  # input every 5 s for 600 s
        clock.now += 5
        pacer.input_seen()
        ran = pacer.tick()
    assert ran is True and pacer.full_collections == 1


def test_stop_hands_the_objects_back_to_the_collector() -> None:
    pacer = GcPacer()
    pacer.start()
    assert gc.get_freeze_count() > 0
    pacer.stop()
    assert gc.get_freeze_count() == 0


def test_many_objects_frozen_since_the_last_full_collection_force_one() -> None:
    pacer, fake, clock = make()
    pacer.start()
    pacer.input_seen()  # the operator never pauses
    fake.live += 4000
    clock.now += 5
    assert pacer.tick() is False  # 4,000 more frozen: under max_growth
    fake.live += 2000
    clock.now += 5
    assert pacer.tick() is True  # 6,000 more: collected although the operator is busy
    assert fake.frozen == 1000


async def test_the_app_tells_its_pacer_about_keys_and_starts_it_only_on_a_real_terminal(
    tmp_path: object,
) -> None:
    from tests.tui.test_app_shell import make_app, make_engine, settle

    app = make_app(make_engine(), tmp_path)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert not app.gc_pacer.started  # headless: tests run many apps in one process
        seen = app.gc_pacer._last_input
        await pilot.press("r")
        assert app.gc_pacer._last_input > seen


def test_with_the_real_collector_the_survivors_of_a_tick_count_toward_max_growth() -> None:
    clock = Clock()
    pacer = GcPacer(period=60, idle=3, max_growth=10_000, clock=clock)
    pacer.start()
    try:
        pacer.input_seen()  # busy: only growth can force a full collection
        kept = [[n] for n in range(4_000)]  # lists are tracked by the collector
        clock.now += 5
        assert pacer.tick() is False  # ~4,000 frozen: under max_growth
        kept += [[n] for n in range(8_000)]
        clock.now += 5
        assert pacer.tick() is True and pacer.full_collections == 1
        assert len(kept) == 12_000
    finally:
        pacer.stop()


def test_a_dashboard_left_alone_is_not_walked_every_period() -> None:
    pacer, fake, clock = make()  # min_growth 20,000 by default
    pacer.start()
    for _ in range(24):  # 120 s, no input at all, a little growth a tick
        clock.now += 5
        fake.live += 100
        assert pacer.tick() is False
    assert pacer.full_collections == 0


def test_left_alone_it_still_collects_everything_once_enough_was_frozen() -> None:
    fake, clock = FakeGc(), Clock()
    pacer = GcPacer(period=60, idle=3, max_period=600, max_growth=50_000, min_growth=2_000,
                    clock=clock, collector=fake)  # fmt: skip
    pacer.start()
    ran = []
    for _ in range(23):  # 115 s, 500 objects frozen a tick
        clock.now += 5
        fake.live += 500
        ran.append(pacer.tick())
    # past `period` and 2,000 frozen: one full collection, then none before `period` again
    assert ran.count(True) == 1 and ran.index(True) == 11


def test_left_alone_it_still_collects_everything_after_max_period() -> None:
    pacer, _, clock = make()
    pacer.start()
    ran = [False]
    while not ran[-1]:
        clock.now += 5
        ran.append(pacer.tick())
    assert clock.now - 1000.0 == 600.0  # max_period
