"""Receiver fuzz, bounded for the default run (issue 13): 5,000 random requests and 40 slow
clients against a real receiver in its own process on loopback. The bigger run is
tests/benchmarks/test_receiver_fuzz_bench.py."""

from __future__ import annotations

from pathlib import Path

from receiver_fuzz import FuzzReport, finish, fuzz, start_receiver

TIMEOUT = 1.5


def check(report: FuzzReport, requests: int) -> None:
    assert report.requests + report.transport_errors >= requests
    assert report.forgeries_accepted == []
    assert report.replays_sent > 100 and report.replays_accepted == 0
    # Genuine signed deliveries get through: all but a connection cut at its lifetime while
    # the fuzzer (which keeps its connections busy) was writing on it.
    assert report.legit_sent > 100 and report.legit_accepted >= 0.99 * report.legit_sent
    assert report.delivered == report.legit_accepted + report.credentialed_accepted
    assert report.tracebacks == 0, report.stderr_tail
    assert report.slow_overdue == []
    assert report.rss_end_kb - report.rss_start_kb < 20_000, report  # flat: < 20 MB growth


async def run_fuzz(tmp_path: Path, requests: int, slow: int) -> FuzzReport:
    stderr = tmp_path / "receiver.stderr"
    proc, port = start_receiver(stderr, TIMEOUT)
    report = FuzzReport()
    try:
        report = await fuzz(port, proc.pid, requests=requests, slow=slow, lifetime=TIMEOUT)
    finally:
        finish(proc, stderr, report)
    print(report.__class__(**{**vars(report), "stderr_tail": report.stderr_tail[-300:]}))
    return report


async def test_receiver_fuzz_5000_requests(tmp_path: Path) -> None:
    check(await run_fuzz(tmp_path, 5000, 40), 5000)
