"""2,000 kickoffs through `crewdash batch` (a real process) against the simulator with the
faults of issue 12: 20% 5xx (500/502/503/504), 5% connections cut before processing, 2% cut
after processing, a limit of 20 requests/s. Run on demand:

    uv run pytest tests/benchmarks/test_kickoff_bench.py -m benchmark -s

Reports accepted / unknown / refused rows, duplicates (an input row the server started
twice), the share of kickoff requests answered 429 after the first second, and the wall time
against the rate limit's ideal (every request the server let through, at 20/s).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crewdash.commands.sim import config_text, write_config
from crewdash.sim import SimApp, load_scenario, serve_in_background

ROWS = 2_000
LIMIT = 20  # requests per second, over every route of the crew
FAULTS = {
    "error_rate": 0.20,
    "html_error_fraction": 0.5,
    "drop_rate": 0.05,
    "drop_after_rate": 0.02,
    "rate_limit": LIMIT,
    "rate_window": 1.0,
    "latency": 0.01,
    "jitter": 0.005,
}


def _kickoff_codes(stats: dict[str, Any]) -> Counter[str]:
    codes: Counter[str] = Counter()
    for route, by_code in stats["requests"].get("basic", {}).items():
        if "kickoff" in route:
            codes.update({str(code): n for code, n in by_code.items()})
    return codes


def _all_codes(stats: dict[str, Any]) -> Counter[str]:
    codes: Counter[str] = Counter()
    for by_code in stats["requests"].get("basic", {}).values():
        codes.update({str(code): n for code, n in by_code.items()})
    return codes


@pytest.mark.benchmark
@pytest.mark.timeout(900)
async def test_2000_kickoffs_with_faults_and_a_rate_limit(tmp_path: Path) -> None:
    app = SimApp(load_scenario("testing"), seed=5, speed=10.0)
    app.configure("basic", faults=FAULTS)
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"topic": f"row{n}"}) + "\n" for n in range(ROWS)))
    async with serve_in_background(app, "127.0.0.1", 0) as server:
        config = tmp_path / "config.toml"
        write_config(
            str(config),
            config_text([("basic", server.crew_url("basic"), server.token("basic"), "crew")]),
        )
        env = {
            **os.environ,
            "CREWDASH_CONFIG": str(config),
            "CREWDASH_DATA_DIR": str(tmp_path / "d"),
        }
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crewdash", "batch", "basic", str(rows), "--concurrency", "8",
            "--json", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        assert proc.stdout is not None
        first = await proc.stdout.readline()
        assert first
        first_at = time.perf_counter()
        await asyncio.sleep(1.0)  # the first second: the pace is still being learnt
        after_first = _kickoff_codes(server.stats())
        out, err = await proc.communicate()
        wall = time.perf_counter() - first_at
        stats = server.stats()
    records = [json.loads(line) for line in (first + out).decode().splitlines()]
    [summary] = [r for r in records if r["type"] == "batch"]
    kickoffs = stats["kickoffs"]
    topics = Counter(k["inputs"]["topic"] for k in kickoffs)
    duplicates = sum(n - 1 for n in topics.values() if n > 1)
    codes = _kickoff_codes(stats)
    later = codes - after_first
    later_total = sum(later.values())
    share_429 = later.get("429", 0) / later_total if later_total else 0.0
    through = sum(n for code, n in _all_codes(stats).items() if code not in ("429", "0"))
    ideal = through / LIMIT
    print(
        f"\n{ROWS} kickoffs, faults {FAULTS}\n"
        f"accepted {summary['accepted']}, unknown {summary['unknown']}, refused "
        f"{summary['refused']}, not started {summary['not_started']}; duplicates {duplicates}; "
        f"runs the server started {len(kickoffs)}\n"
        f"kickoff requests {sum(codes.values())} by status {dict(codes)}\n"
        f"429 share after the first second {share_429:.2%} ({later.get('429', 0)}/{later_total})\n"
        f"wall {wall:.1f} s (process {time.perf_counter() - started:.1f} s) vs ideal {ideal:.1f} s "
        f"({through} requests let through at {LIMIT}/s): {ideal / wall:.0%} of the ideal\n"
        f"exit code {proc.returncode}"
    )
    assert duplicates == 0
    assert summary["accepted"] + summary["unknown"] == ROWS  # nothing refused, nothing left
    assert proc.returncode == (0 if summary["unknown"] == 0 else 4), err.decode()[-2000:]
    assert share_429 < 0.02
    assert ideal / wall >= 0.8
