"""The monitor's heap of due times and its cap on requests in flight: synchronous, no loop."""

from __future__ import annotations

from crewdash.core.monitor.schedule import DueHeap, Entry, InFlightCap
from crewdash.core.monitor.settings import MonitorSettings


def test_entries_come_out_earliest_first_ties_in_push_order() -> None:
    heap = DueHeap()
    heap.push("b", 1, 2.0)
    heap.push("a", 1, 1.0)
    heap.push("c", 1, 2.0)
    assert [heap.pop().local_id for _ in range(len(heap))] == ["a", "b", "c"]
    assert heap.peek() is None and heap.next_due() is None


def test_push_says_whether_the_new_entry_is_the_earliest() -> None:
    heap = DueHeap()
    assert heap.push("a", 1, 5.0) is True  # the driver must re-plan its wait
    assert heap.push("b", 1, 9.0) is False
    assert heap.push("c", 1, 5.0) is False  # a tie goes after the earlier push
    assert heap.push("d", 1, 1.0) is True
    assert heap.next_due() == 1.0


def test_a_replanned_run_leaves_its_stale_entry_behind_with_the_old_generation() -> None:
    heap = DueHeap()
    heap.push("a", 1, 1.0)
    heap.push("a", 2, 3.0)
    assert heap.pop() == Entry(1.0, 1, "a", 1)  # the driver drops it: gen 1 is stale
    assert heap.pop().gen == 2


def test_the_cap_follows_the_lowest_latency_between_its_bounds() -> None:
    s = MonitorSettings(min_in_flight=4, max_in_flight=16, request_cost=0.001, latency_window=5)
    cap = InFlightCap(s)
    assert cap.cap == 4  # nothing seen yet: the floor
    assert cap.observe(0.008, now=0.0) == 8
    assert cap.observe(0.050, now=1.0) == 8  # a slower answer: the lowest one still rules
    assert cap.observe(0.001, now=2.0) == 4  # never below min_in_flight
    cap = InFlightCap(s)
    assert cap.observe(1.0, now=0.0) == 16  # never above max_in_flight


def test_the_cap_forgets_a_low_latency_after_two_windows() -> None:
    cap = InFlightCap(MonitorSettings(min_in_flight=1, max_in_flight=100, latency_window=5))
    cap.observe(0.002, now=0.0)
    assert cap.observe(0.010, now=6.0) == 2  # the last window's floor still counts
    assert cap.observe(0.010, now=12.0) == 10  # two windows on: only the new latency


def test_a_zero_request_cost_means_the_maximum() -> None:
    cap = InFlightCap(MonitorSettings(request_cost=0.0, max_in_flight=7, min_in_flight=2))
    assert cap.observe(0.5, now=0.0) == 7


def test_an_offer_takes_some_entries_keeps_the_rest_in_order_and_can_end_early() -> None:
    heap = DueHeap()
    for n, due in enumerate([1.0, 1.1, 1.2, 1.3, 1.4, 5.0]):
        heap.push(f"r{n}", 0, due)
    offered: list[str] = []

    def takes(entry: Entry) -> bool | None:
        offered.append(entry.local_id)
        return None if entry.local_id == "r3" else entry.local_id in ("r0", "r2")

    heap.offer(2.0, takes)
    assert offered == ["r0", "r1", "r2", "r3"]  # r3 ended it: r4 was never offered
    assert [heap.pop().local_id for _ in range(len(heap))] == ["r1", "r3", "r4", "r5"]
