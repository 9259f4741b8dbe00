"""The processes of the monitor benchmark, so each side is measured on its own.

- `python monitor_bench_procs.py sim SPEED TASKS TASK_SECONDS LATENCY`: the simulator alone
  in its process, answering every request after LATENCY real seconds (± a third). Prints
  `ready PORT TOKEN`; then reads commands on stdin: `kick N STAGGER` starts N runs spread over
  STAGGER real seconds, printing `run KICKOFF_ID PHASE_START` for each (the
  monotonic time its first task starts: CLOCK_MONOTONIC is shared by every process, so the
  client can compare it with its own clock); `stats` prints `stats REQUESTS_TOTAL`. Stdin
  closing stops it.
- `python monitor_bench_procs.py client KIND CASE_JSON`: one client (`engine` or `naive`) in a
  fresh process that starts its own simulator child, kicks the case's runs and tracks them to
  the end. Prints one JSON line of results; CPU seconds and peak RSS are this process's only
  (the simulator's work is in its child, not counted).
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CREW = "long"


@dataclass(frozen=True)
class Case:
    """One workload. Times of tasks are simulated seconds; everything else is real seconds."""

    name: str
    runs: int
    tasks: int
    task_seconds: float
    speed: float
    stagger: float  # kickoffs spread evenly over this long
    poll_min: float  # the engine's crew settings
    poll_max: float
    naive_interval: float  # the guide loop's sleep between passes
    timeout: float
    time_scale: float = 1.0  # intervals were divided by this; delays are reported times it
    latency: float = 0.0  # added by the simulator to every answer (real seconds)
    history: int = 0  # earlier completed runs of the crew in the engine's store at start
    queue_delay: float = 5.0  # simulated seconds each run is queued before its first task

    @property
    def task_real(self) -> float:
        return self.task_seconds / self.speed


# --- the simulator process ------------------------------------------------------------------


async def _sim_main(
    speed: float, tasks: int, task_seconds: float, latency: float, queue_delay: float
) -> None:
    from crewdash.sim import CrewSpec, FaultSpec, Scenario, SimApp, TaskSpec, serve_in_background

    specs = tuple(TaskSpec(f"t{i}", "Agent", task_seconds, "out") for i in range(tasks))
    faults = FaultSpec(latency=latency, jitter=latency / 3)
    crew = CrewSpec(CREW, tasks=specs, queue_delay=queue_delay, faults=faults)
    scenario = Scenario(name="bench", crews=(crew,))
    app = SimApp(scenario, speed=speed)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout

    async def kick(n: int, stagger: float) -> None:
        t0 = time.monotonic()
        for i in range(n):
            wait = t0 + i * stagger / n - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            run = app.start_run(CREW, {})
            out.write(f"run {run.kickoff_id} {run.phase_start!r}\n")
            out.flush()

    kickers: list[asyncio.Task[None]] = []
    async with serve_in_background(app, "127.0.0.1", 0) as server:
        out.write(f"ready {server.port} {server.token(CREW)}\n")
        out.flush()
        while line := (await reader.readline()).decode().split():
            if line[0] == "kick":
                kickers.append(asyncio.create_task(kick(int(line[1]), float(line[2]))))
            elif line[0] == "stats":
                out.write(f"stats {server.stats()['requests_total']}\n")
                out.flush()
        for task in kickers:
            task.cancel()


# --- the client side ------------------------------------------------------------------------


class Sim:
    """The simulator child, seen from the client process."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.token = ""
        self.phase_start: dict[str, float] = {}
        self.kicked: list[str] = []
        self.on_run: Any = None
        self._stats: asyncio.Future[int] | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def crew_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/crews/{CREW}"

    async def start(self) -> None:
        c = self.case
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "sim",
            str(c.speed),
            str(c.tasks),
            str(c.task_seconds),
            str(c.latency),
            str(c.queue_delay),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        ready = (await self.proc.stdout.readline()).decode().split()
        assert ready and ready[0] == "ready", ready
        self.port, self.token = int(ready[1]), ready[2]
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := (await self.proc.stdout.readline()).decode().split():
            if line[0] == "run":
                self.phase_start[line[1]] = float(line[2])
                self.kicked.append(line[1])
                if self.on_run is not None:
                    self.on_run(line[1])
            elif line[0] == "stats" and self._stats is not None:
                self._stats.set_result(int(line[1]))

    def _send(self, text: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(text.encode())

    def kick(self) -> None:
        self._send(f"kick {self.case.runs} {self.case.stagger}\n")

    async def requests_total(self) -> int:
        self._stats = asyncio.get_running_loop().create_future()
        self._send("stats\n")
        return await self._stats

    def created(self, kickoff_id: str) -> float:
        """When the simulator created the run, in monotonic seconds."""
        return self.phase_start[kickoff_id] - self.case.queue_delay / self.case.speed

    def truth(self, kickoff_id: str, state: str, task: str | None) -> float | None:
        """When the simulator's run entered this (state, task), in monotonic seconds."""
        start = self.phase_start[kickoff_id]
        if state == "running" and task and task.startswith("t"):
            return start + int(task[1:]) * self.case.task_real
        if state == "completed":
            return start + self.case.tasks * self.case.task_real
        return None

    async def stop(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()


def _summary(
    requests: int, wall: float, cpu: float, delays: list[float], case: Case
) -> dict[str, float]:
    return {
        "requests": requests,
        "requests_per_s": requests / wall,
        "cpu_s": cpu,
        "cpu_ms_per_request": 1000 * cpu / max(1, requests),
        "wall_s": wall,
        # a compressed case reports what an operator would see at real speed
        "median_delay_s": statistics.median(delays) * case.time_scale,
        "p95_delay_s": statistics.quantiles(delays, n=20)[-1] * case.time_scale,
        "peak_rss_mb": peak_rss_mb(),
        "changes": len(delays),
        "missed": case.runs * (case.tasks + 1) - len(delays),  # phases never seen at all
    }


def peak_rss_mb() -> float:
    """This process's peak RSS. Not `ru_maxrss`: Linux carries that over from the parent
    across fork+exec, so a child of pytest would report pytest's own peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _engine(case: Case, sim: Sim, tmp: Path) -> dict[str, float]:
    from crewdash.aop.models import Secret
    from crewdash.core.config.model import Config, CrewConfig, TokenSource
    from crewdash.core.engine import Engine
    from crewdash.core.models import RunChanged
    from crewdash.core.store.database import RunStore

    # synchronous=NORMAL: FULL is one fsync per change, a disk benchmark, not the monitor's
    # (see tests/benchmarks/test_store_bench.py).
    store = RunStore.open(tmp / "bench.sqlite3", synchronous="NORMAL")
    seed_history(store, case)
    crew = CrewConfig(
        name=CREW,
        url=sim.crew_url,
        token=TokenSource(inline=Secret(sim.token)),
        poll_min=case.poll_min,
        poll_max=case.poll_max,
    )
    engine = Engine(Config(path=None, crews={CREW: crew}), store)
    delays: list[float] = []
    seen: dict[str, tuple[str, str | None]] = {}
    pending: set[str] = set()
    finished = 0
    done = asyncio.Event()

    def on_run(kickoff_id: str) -> None:
        # As crewdash's own kickoff leaves it: the intent written before the server created
        # the run, accepted at once. The simulator kicks its runs itself and this process
        # reads of them up to a few hundred ms late (a burst while it is busy): dated by when
        # it read them, every phase would seem to start that much late and each aim miss.
        pending.add(kickoff_id)
        created = time.time() - (time.monotonic() - sim.created(kickoff_id))
        rec = store.create_intent(CREW, {}, str(uuid.uuid4()), {}, at=created)
        engine.monitor.track(store.mark_accepted(rec.local_id, kickoff_id, at=created))

    def on_event(event: Any) -> None:
        nonlocal finished
        if not isinstance(event, RunChanged) or event.run.kickoff_id not in pending:
            return
        rec = event.run
        key = (str(rec.state), rec.current_task)
        if seen.get(rec.kickoff_id) != key:  # flag updates re-publish a phase: count it once
            seen[rec.kickoff_id] = key
            at = sim.truth(rec.kickoff_id, *key)
            if at is not None:
                delays.append(time.monotonic() - at)
        if rec.state.is_final:
            pending.discard(rec.kickoff_id)
            finished += 1
            if finished == case.runs:
                done.set()

    sim.on_run = on_run
    engine.subscribe(on_event)
    # Started before the window opens, as the loop's client is built before its own: the
    # engine's start (the HTTP client's first import among it, ~0.1 CPU-s) is once a
    # process, not per request.
    await engine.start()
    before = await sim.requests_total()
    cpu0, t0 = time.process_time(), time.monotonic()
    sim.kick()
    await asyncio.wait_for(done.wait(), case.timeout)
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    requests = await sim.requests_total() - before
    sent = engine.requests_sent()
    await engine.stop()
    store.close()
    return {
        **_summary(requests, wall, cpu, delays, case),
        "unanswered": sent - requests,
        "peak_in_flight": engine.monitor.peak_in_flight,
    }


def seed_history(store: Any, case: Case) -> None:
    """`case.history` earlier runs of the crew, as a monitor that saw each change at once
    would have stored them (an hour ago, one after another)."""
    from crewdash.aop.parse import parse_status

    queue, task = case.queue_delay / case.speed, case.task_real
    t = time.time() - 3600.0
    for i in range(case.history):
        rec = store.create_intent(CREW, {}, str(uuid.uuid4()), {}, at=t)
        store.mark_accepted(rec.local_id, f"history-{i}", at=t + 0.01)
        for k in range(case.tasks):
            progress = {"completed_tasks": k, "total_tasks": case.tasks}
            body = {"status": "running", "current_task": f"t{k}", "progress": progress}
            store.record_status(rec.local_id, parse_status(body), t + queue + k * task)
        t += queue + case.tasks * task
        done = {"status": "completed", "result": {"raw": "out"}}
        store.record_status(rec.local_id, parse_status(done), t)
        t += 1.0


async def _naive(case: Case, sim: Sim) -> dict[str, float]:
    from crewdash.aop import AsyncCrewClient, RetryPolicy

    client = AsyncCrewClient(sim.crew_url, sim.token, retry=RetryPolicy.none())
    seen: dict[str, tuple[str, str | None]] = {}
    delays: list[float] = []
    finished: set[str] = set()
    failed = 0
    before = await sim.requests_total()
    cpu0, t0 = time.process_time(), time.monotonic()
    sim.kick()
    while len(finished) < case.runs:  # the guide's loop: every run, one after another, then sleep
        if time.monotonic() - t0 > case.timeout:
            raise TimeoutError("the naive loop did not finish")
        for kickoff_id in list(sim.kicked):
            if kickoff_id in finished:
                continue
            try:
                status = await client.status(kickoff_id)
            except Exception:
                failed += 1
                continue
            key = (str(status.state), status.current_task)
            if seen.get(kickoff_id) != key:
                seen[kickoff_id] = key
                at = sim.truth(kickoff_id, *key)
                if at is not None:
                    delays.append(time.monotonic() - at)
            if status.state.is_final:
                finished.add(kickoff_id)
        if len(finished) < case.runs:
            await asyncio.sleep(case.naive_interval)
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    requests = await sim.requests_total() - before
    await client.aclose()
    return {
        **_summary(requests, wall, cpu, delays, case),
        "unanswered": failed,
        "peak_in_flight": 1,
    }


async def _client_main(kind: str, case: Case) -> dict[str, float]:
    sim = Sim(case)
    await sim.start()
    try:
        if kind == "engine":
            with tempfile.TemporaryDirectory() as tmp:
                return await _engine(case, sim, Path(tmp))
        return await _naive(case, sim)
    finally:
        await sim.stop()


def run_client(kind: str, case: Case) -> dict[str, float]:
    """Run one side in a fresh process (with its own simulator child); its results.

    With bytecode cached, as an installed crewdash has it (`bench_env`): this box sets
    PYTHONDONTWRITEBYTECODE, and each module the engine loads on first use (the HTTP client,
    parts of the store) was compiled inside the measured window, ~0.2 CPU-s of ~2.1.
    `warm_up` runs both sides once first so the cache is there."""
    import subprocess

    from tests.benchmarks.tui_pty import bench_env

    out = subprocess.run(
        [sys.executable, __file__, "client", kind, json.dumps(asdict(case))],
        capture_output=True,
        text=True,
        check=False,
        timeout=case.timeout + 60,
        env=bench_env(),
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} client failed:\n{out.stderr[-4000:]}")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def warm_up(case: Case) -> None:
    """Both sides once on a tiny version of `case`, not measured: their bytecode is cached."""
    tiny = replace(case, runs=2, task_seconds=1.0, history=0, timeout=60.0)
    for kind in ("engine", "naive"):
        run_client(kind, tiny)


def main(argv: list[str]) -> None:
    if argv[0] == "sim":
        sim_args = (float(argv[1]), int(argv[2]), float(argv[3]), float(argv[4]), float(argv[5]))
        asyncio.run(_sim_main(*sim_args))
    elif argv[0] == "client":
        case = Case(**json.loads(argv[2]))
        result = asyncio.run(_client_main(argv[1], case))
        print(json.dumps(result), flush=True)
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
