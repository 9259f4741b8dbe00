"""Two real processes write audit rows to one store at once (issue 14): kickoffs (their
action in the transaction of their answer) and stops. Nothing is lost, every row says which
process's channel wrote it, and the listing pages through all of them exactly once."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from crewdash.core.audit import AuditFilter, this_host
from crewdash.core.store.database import RunStore

ROUNDS = 60

_WRITER = """
import sys
from crewdash.core.store.database import RunStore
path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = RunStore.open(path, channel=f"cli:{name}")
print("ready", flush=True)
sys.stdin.readline()  # both start writing together
for n in range(rounds):
    run = store.create_intent("c", {"n": n}, f"{name}-{n}", {})
    store.begin_send(run.local_id)
    store.mark_accepted(run.local_id, f"k-{name}-{n}")
    store.record_action(run.local_id, "stop", f"kickoff id k-{name}-{n}", server_answer="2xx")
store.close()
"""


def test_two_processes_write_actions_and_none_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite3"
    RunStore.open(path).close()  # created and migrated before the race
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), name, str(ROUNDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("one", "two")
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.wait(timeout=120) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    with RunStore.open(path) as store:
        everything = []
        while True:
            page = store.audit(limit=50, before=everything[-1].key if everything else None)
            everything.extend(page)
            if len(page) < 50:
                break
        assert len(everything) == 4 * ROUNDS
        assert len({(e.kind, e.id) for e in everything}) == len(everything)
        assert Counter((e.channel, e.what) for e in everything) == {
            ("cli:one", "kickoff"): ROUNDS,
            ("cli:two", "kickoff"): ROUNDS,
            ("cli:one", "stop"): ROUNDS,
            ("cli:two", "stop"): ROUNDS,
        }
        assert {e.host for e in everything} == {this_host()}
        # each kickoff line names the run it accepted, whoever wrote it
        named = store.audit(AuditFilter(run="k-two-7"))
        assert [(e.what, e.kickoff_id, e.channel) for e in named] == [
            ("stop", "k-two-7", "cli:two"),
            ("kickoff", "k-two-7", "cli:two"),
        ]
