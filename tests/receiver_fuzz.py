"""A fuzzer for the webhook receiver, shared by the default test and the benchmark: a real
receiver in its own process (`python tests/receiver_fuzz.py serve ...`) on loopback, fed random
methods, paths, headers, sizes, bodies (nested JSON, lone surrogates, bad UTF-8), nan/inf/huge
timestamps with valid signatures, replays of accepted deliveries and slow clients.

The receiver process prints its port and writes one line per delivery a handler saw to a
file; its stderr goes to another file the test reads.
The report counts what matters: forgeries or replays accepted,
tracebacks on stderr, slow connections that outlived the timeout, RSS before and after."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

BEARER = "fuzz-receiver-bearer-5f0c2a9e81"
FLOW_SECRET = "fuzz-flow-secret-77d1"
CREWS = ("review", "approvals")


@dataclass
class FuzzReport:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    legit_sent: int = 0
    legit_accepted: int = 0
    forgeries_accepted: list[str] = field(default_factory=list)
    replays_sent: int = 0
    replays_accepted: int = 0
    slow_clients: int = 0
    slow_overdue: list[float] = field(default_factory=list)  # lifetimes beyond the timeout
    delivered: int = 0  # lines the receiver's handlers printed
    tracebacks: int = 0
    stderr_tail: str = ""
    rss_start_kb: int = 0
    rss_end_kb: int = 0
    transport_errors: int = 0
    credentialed_accepted: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # transport errors by type
    slow_requests: list[str] = field(default_factory=list)  # answered after > 2 s

    def failed(self, exc: BaseException, what: str, took: float) -> None:
        self.transport_errors += 1
        key = f"{type(exc).__name__}"
        self.errors[key] = self.errors.get(key, 0) + 1
        if took > 2:
            self.slow_requests.append(f"{what}: {key} after {took:.1f} s")


# -- the receiver process ---------------------------------------------------------------------


async def _serve(lifetime: float, seen_file: TextIO) -> None:
    from crewdash.aop.models import Secret
    from crewdash.core.config.model import ReceiverConfig
    from crewdash.core.receiver.server import Receiver

    def seen(kind: str) -> Any:
        def handler(crew: str, payload: Any) -> None:
            line = json.dumps({"kind": kind, "crew": crew, "id": payload.get("id")})
            seen_file.write(line + "\n")  # a file, not a pipe nobody reads while fuzzing
            seen_file.flush()

        return handler

    rec = Receiver(
        ReceiverConfig(
            enabled=True,
            host="127.0.0.1",
            port=0,
            bearer_token=Secret(BEARER),
            flow_secret=Secret(FLOW_SECRET),
        ),
        on_crew_hitl=seen("crew"),
        on_flow_hitl=seen("flow"),
        on_delivery=seen("delivery"),
        crews=lambda: set(CREWS),
        connection_timeout=lifetime,
    )
    await rec.start()
    print(json.dumps({"port": rec.port}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    await rec.stop()


def start_receiver(stderr_path: Path, lifetime: float) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "serve", str(lifetime), str(_deliveries(stderr_path))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr_path.open("w"),
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    return proc, int(json.loads(first)["port"])


def _deliveries(stderr_path: Path) -> Path:
    return stderr_path.with_name("deliveries.jsonl")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# -- the fuzzer -------------------------------------------------------------------------------


def _sign(stamp: str, body: bytes) -> str:
    from crewdash.core.receiver.server import sign

    return sign(FLOW_SECRET, stamp, body)


def _nested(rng: random.Random) -> bytes:
    depth = rng.choice((5, 40, 200, 3000, 50_000))
    opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
    return b'{"id": "n", "x": ' + opener * depth + b"1" + closer * depth + b"}"


def _body(rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    if kind == 0:
        return rng.randbytes(rng.choice((0, 1, 17, 1000, 70_000)))
    if kind == 1:
        return _nested(rng)
    if kind == 2:
        return b'{"id": "s", "prompt": "\\ud83d x \\udc00"}'
    if kind == 3:
        return b'{"id": "k", "\\ud800": "key"}'
    if kind == 4:
        return b'{"id": "u", "output": "\xc3\x28 \xff"}'
    if kind == 5:
        return b"[" + b'"x",' * rng.randrange(1, 500) + b'"y"]'
    if kind == 6:
        return json.dumps({"id": f"r{rng.random()}", "events": rng.random()}).encode()
    if kind == 7:
        return b"x" * (1024 * 1024 + rng.randrange(1, 1000))  # over the cap
    return json.dumps({"id": f"j{rng.random()}", "prompt": "p" * rng.randrange(0, 3000)}).encode()


_BAD_STAMPS = ("nan", "inf", "-inf", "1e400", "9" * 30, "1.5", "", "NaN", "0", "-5", "1e9")


async def _one(
    http: httpx.AsyncClient, base: str, rng: random.Random, n: int, report: FuzzReport, legit: list
) -> None:
    """One random request; counts forgeries (2xx for a request without valid credentials)."""
    now = int(time.time())
    method = rng.choice(("POST",) * 6 + ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"))
    crew = rng.choice((*CREWS, "nobody", "../..", "%00", "x" * 300))
    kind = rng.choice(("human-input", "flow", "events", "task", "step", "crew", "zz"))
    path = f"/hooks/{crew}/{kind}"
    if kind in ("task", "step", "crew") or rng.random() < 0.1:
        path += "/" + rng.choice(("0" * 32, "deadbeef" * 4, "", "x"))
    headers: dict[str, str] = {"Content-Type": rng.choice(("application/json", "text/plain"))}
    body = _body(rng)
    credentialed = False
    choice = rng.randrange(10)
    if choice == 0:
        headers["Authorization"] = rng.choice(
            (f"Bearer {BEARER[:-1]}", f"Basic {BEARER}", "Bearer", f"bearer  {BEARER}x", "")
        )
    elif choice == 1 and kind == "flow":  # a valid signature over a bad timestamp
        stamp = rng.choice(_BAD_STAMPS)
        headers["X-CrewAI-Timestamp"] = stamp
        headers["X-CrewAI-Signature"] = _sign(stamp, body)
    elif choice == 2:  # forged signature
        stamp = str(now)
        headers["X-CrewAI-Timestamp"] = stamp
        headers["X-CrewAI-Signature"] = "sha256=" + rng.randbytes(32).hex()
    elif choice == 3:  # stale but well signed
        stamp = str(now - rng.choice((301, 10_000, 10**9)))
        headers["X-CrewAI-Timestamp"] = stamp
        headers["X-CrewAI-Signature"] = _sign(stamp, body)
    elif choice == 4:
        headers[rng.choice(("X-Junk", "Content-Length", "Transfer-Encoding"))] = rng.choice(
            ("-1", "nan", "chunked", "1" * 30, "0")
        )
    elif choice == 5:  # credentialed: an insane body must still be refused (400)
        method, kind = "POST", rng.choice(("human-input", "events"))
        path = f"/hooks/{rng.choice(CREWS)}/{kind}"
        headers["Authorization"] = f"Bearer {BEARER}"
        credentialed = True
    elif choice == 6 and legit:  # replay an accepted signed delivery
        body, headers = rng.choice(legit)
        method, path = "POST", "/hooks/approvals/flow"
        report.replays_sent += 1
        started = time.monotonic()
        try:
            r = await http.request(method, base + path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            report.failed(exc, "replay", time.monotonic() - started)
            return
        report.requests += 1
        report.by_status[r.status_code] = report.by_status.get(r.status_code, 0) + 1
        if r.is_success:
            report.replays_accepted += 1
        return
    elif choice == 7:  # a legit, freshly signed flow request: must be accepted once
        body = json.dumps({"event_type": "new_request", "id": f"legit-{n}"}).encode()
        stamp = str(now)
        headers = {
            "X-CrewAI-Timestamp": stamp,
            "X-CrewAI-Signature": _sign(stamp, body),
            "Content-Type": "application/json",
        }
        method, path = "POST", "/hooks/approvals/flow"
        report.legit_sent += 1
        started = time.monotonic()
        try:
            r = await http.request(method, base + path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            report.failed(exc, "legit", time.monotonic() - started)
            return
        report.requests += 1
        report.by_status[r.status_code] = report.by_status.get(r.status_code, 0) + 1
        if r.status_code == 202:
            report.legit_accepted += 1
            legit.append((body, headers))
        return
    started = time.monotonic()
    try:
        r = await http.request(method, base + path, content=body, headers=headers)
    except Exception as exc:  # the client refusing to send what we made up (h11)
        what = f"{method} {path[:40]} {sorted(headers)} {len(body)} B"
        report.failed(exc, what, time.monotonic() - started)
        return
    took = time.monotonic() - started
    if took > 2:
        report.slow_requests.append(f"{method} {path[:40]} {sorted(headers)}: {took:.1f} s")
    report.requests += 1
    report.by_status[r.status_code] = report.by_status.get(r.status_code, 0) + 1
    if r.is_success and credentialed:
        report.credentialed_accepted += 1
    elif r.is_success:
        report.forgeries_accepted.append(f"{method} {path} {r.status_code}")


async def _slow_client(port: int, rng: random.Random, lifetime: float, report: FuzzReport) -> None:
    """A connection that never finishes its request: idle, slow headers or slow body."""
    sent = rng.choice(
        (
            b"",
            b"POST /hooks/review/human-input HTTP/1.1\r\nHost: x\r\n",
            b"POST /hooks/review/human-input HTTP/1.1\r\nHost: x\r\nContent-Length: 999\r\n"
            + f"Authorization: Bearer {BEARER}\r\n\r\n{{".encode(),
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        )
    )
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return
    report.slow_clients += 1
    try:
        writer.write(sent)
        await writer.drain()
        while True:  # trickle a byte now and then; wait for the server to close
            chunk = await asyncio.wait_for(reader.read(65536), lifetime + 5)
            if not chunk:
                break
    except (ConnectionError, TimeoutError):
        pass
    finally:
        writer.close()
    took = time.monotonic() - started
    if took > lifetime + 1.0:
        report.slow_overdue.append(took)


async def fuzz(
    port: int, pid: int, *, requests: int, slow: int, lifetime: float, seed: int = 13
) -> FuzzReport:
    rng = random.Random(seed)
    report = FuzzReport()
    base = f"http://127.0.0.1:{port}"
    legit: list[tuple[bytes, dict[str, str]]] = []
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(limits=limits, timeout=lifetime + 5) as http:
        await _one(http, base, rng, -1, report, legit)
        report.rss_start_kb = rss_kb(pid)
        slow_tasks = [
            asyncio.create_task(_slow_client(port, random.Random(seed + i), lifetime, report))
            for i in range(slow)
        ]
        sem = asyncio.Semaphore(16)

        async def bounded(n: int) -> None:
            async with sem:
                await _one(http, base, rng, n, report, legit)

        await asyncio.gather(*(bounded(n) for n in range(requests)))
        await asyncio.gather(*slow_tasks)
    report.rss_end_kb = rss_kb(pid)
    return report


def finish(proc: subprocess.Popen[str], stderr_path: Path, report: FuzzReport) -> FuzzReport:
    """Stop the receiver; count what its handlers saw and the tracebacks on its stderr."""
    proc.communicate("", timeout=30)
    lines = _deliveries(stderr_path).read_text().splitlines()
    report.delivered = sum(1 for line in lines if line.startswith("{"))
    err = stderr_path.read_text()
    report.tracebacks = err.count("Traceback")
    report.stderr_tail = err[-2000:]
    return report


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    with Path(sys.argv[3]).open("a") as out:
        asyncio.run(_serve(float(sys.argv[2]), out))
