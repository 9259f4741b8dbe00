"""The seeded random-key soak: the real `crewdash` on a pty against the simulator, pressed by
a seeded random "operator" while runs start, finish and pause for human input.

Keys are drawn from the app's own bindings (every `BINDINGS` list under `crewdash.tui`, found
by walking the package, plus Textual's), printable characters, and Tab / Enter / Esc /
arrows / Backspace / Home / End / PageUp / PageDown; gaps are 0-150 ms with bursts of keys
10-30 ms apart and now and then a pause past the app's 1-s ticks. Every few seconds the
operator starts a run of a random crew (`c`, Down to the crew, `n`, text, Ctrl+S) and now and
then answers a request on purpose (`i`, feedback, Ctrl+S or Ctrl+R, `y`).

It fails on:
- a traceback on the screen or in the output, or the program exiting;
- an answer the soak did not mean to send. The simulator records every `/resume` (and every
  flow callback); each must match one answer the soak gave on purpose: same run (the id the
  modal showed), task, approve/reject and feedback text. Outside its deliberate answers the
  soak never presses a key that could send an answer while it can see a human-input modal
  or an answer's confirmation (there it types text, moves, or presses Esc), and a burst of
  keys ends at any key that can open one (Enter, `i`, Space, Ctrl+P). So a recorded answer
  it did not mean is a request that opened on its own and took keys typed for something else
  (the issue-11 defect: `n` + text + Ctrl+S went into an approval), or an answer sent to a
  run other than the one on screen;
- keys typed to start a run (`n`, text, Ctrl+S) that a human-input request took instead.

A request may still open by itself when the operator is idle on the dashboard; the soak is
never idle for long (its pauses are at most 1.5 s), and after any key that may open
something it waits for the screen to settle before it chooses the next key.

The seed and the key count come from the environment:

    CREWDASH_SOAK_SEED   the seed (default 1); a failure prints it
    CREWDASH_SOAK_KEYS   keys to send (default: as many as fit in CREWDASH_SOAK_SECONDS)
    CREWDASH_SOAK_SECONDS  the time for keys when no count is given (default 50: CI's run)

CI runs the default (about 60 s in all). A longer run, on demand:

    CREWDASH_SOAK_KEYS=2000 CREWDASH_SOAK_SEED=7 \
        uv run pytest tests/journeys/test_soak.py -p no:randomly -s

(the test's timeout grows with the key count: ~0.3 s a key on top of the usual 120 s).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import random
import re
import string
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.journeys.harness import AppDied, SimProcess, Tui, key_bytes, short_id
from tests.journeys.steps import MODAL_MARKS

SEED = int(os.environ.get("CREWDASH_SOAK_SEED", "1"))
KEYS = int(os.environ.get("CREWDASH_SOAK_KEYS", "0"))  # 0: as many as fit in SECONDS
SECONDS = float(os.environ.get("CREWDASH_SOAK_SECONDS", "50"))
#: the read-only soak's time for keys (CI's run: 20 s)
READ_ONLY_SECONDS = float(os.environ.get("CREWDASH_SOAK_READ_ONLY_SECONDS", "20"))

CREWS = ["basic", "review", "flow", "slowreview", "typed", "slow"]
NAVIGATION = [
    "tab",
    "shift+tab",
    "enter",
    "escape",
    "up",
    "down",
    "left",
    "right",
    "backspace",
    "home",
    "end",
    "pageup",
    "pagedown",
]
NEVER = {"ctrl+q", "ctrl+z"}  # leaving and suspending are not what a soak is about
#: keys that may open a human-input modal or the palette: a burst ends with them
BURST_END = {"enter", "i", "space", "ctrl+p"}
#: keys that may send an answer from a human-input modal or confirm one
ANSWERING = {"enter", "space", "ctrl+s", "ctrl+r", "y"}
#: what a confirmation of an answer asks (crew approve / request changes / flow outcome)
ANSWER_QUESTIONS = ("Approve task", "run the task again", "with '")
#: the command palette: its placeholder while empty, its search icon once text is typed (the
#: placeholder alone let an Enter through after typing, and it ran the highlighted "Quit")
PALETTE_MARKS = ("Search for commands", "\N{RIGHT-POINTING MAGNIFYING GLASS}")


def binding_keys() -> list[str]:
    """Every key bound anywhere in the app: the Binding lists of every module and class
    under crewdash.tui (bindings.py, the screens', the widgets'), and Textual's App's."""
    from textual.app import App
    from textual.binding import Binding

    import crewdash.tui

    found: set[str] = set()

    def take(bindings: Any) -> None:
        for binding in bindings if isinstance(bindings, list | tuple) else ():
            if isinstance(binding, Binding):
                found.update(k.strip() for k in binding.key.split(","))

    take(App.BINDINGS)
    found.add("ctrl+p")  # Textual's command palette (App.COMMAND_PALETTE_BINDING)
    for info in pkgutil.walk_packages(crewdash.tui.__path__, "crewdash.tui."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            take(value)
            take(getattr(value, "BINDINGS", None) if isinstance(value, type) else None)
    usable = []
    for key in sorted(found - NEVER):
        with contextlib.suppress(ValueError):
            key_bytes(key)
            usable.append(key)
    return usable


@dataclass
class Intended:
    """An answer the soak gave on purpose, as the modal showed it."""

    sid: str
    task: str
    approve: bool
    feedback: str
    used: bool = False


@dataclass
class Operator:
    tui: Tui
    sim: SimProcess
    rng: random.Random
    bindings: list[str]
    intended: list[Intended] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    keys: int = 0
    answers: int = 0
    kickoffs: int = 0
    #: keys of a deliberate step that a human-input request took instead
    stolen: list[str] = field(default_factory=list)
    #: how the deliberate steps went ("kickoff sent", "answer: no main screen", ...)
    outcomes: Counter[str] = field(default_factory=Counter)

    # -- what is on the screen -------------------------------------------------------------

    def state(self) -> str:
        text = self.tui.text()
        if any(q in text for q in ANSWER_QUESTIONS) and ("Cancel" in text or "Yes" in text):
            return "answer-confirm"
        if any(mark in text for mark in MODAL_MARKS):
            return "modal"
        if any(mark in text for mark in PALETTE_MARKS):
            return "palette"
        if "filter runs" in text and "inbox " in text:
            return "main"
        return "other"

    # -- keys ------------------------------------------------------------------------------

    def send(self, key: str, why: str) -> None:
        self.tui.check_alive()
        self.tui.pty.write(key_bytes(key))
        self.keys += 1
        self.log.append(f"{time.monotonic():.3f} {why:<14} {key}")

    def pause(self, low: float, high: float) -> None:
        time.sleep(self.rng.uniform(low, high))

    def random_key(self) -> str:
        roll = self.rng.random()
        if roll < 0.4:
            return self.rng.choice(self.bindings)
        if roll < 0.75:
            char = self.rng.choice(string.ascii_letters + string.digits + string.punctuation + " ")
            return "space" if char == " " else char
        return self.rng.choice(NAVIGATION)

    def random_burst(self) -> None:
        """One key, or a burst of 2-8 keys 10-30 ms apart, chosen for what the screen shows."""
        state = self.state()
        if state == "answer-confirm":
            self.send(self.rng.choice(["escape", "n"]), state)
            return
        if state in ("modal", "palette"):
            # type, move, or leave; never a key that answers, presses a button or runs a command
            key = self.random_key()
            while key in ANSWERING or key in BURST_END:
                key = self.rng.choice([*NAVIGATION, "escape", "escape", "a", "Z", "7"])
            self.send(key, state)
            return
        for i in range(self.rng.choice([1, 1, 1, 2, 3, 5, 8])):
            if i:
                self.pause(0.01, 0.03)
            key = self.random_key()
            self.send(key, state)
            if key in BURST_END:
                self.settle()  # what it opened is on the screen before the next key is chosen
                return

    def settle(self, quiet: float = 0.2, limit: float = 2.0) -> None:
        """Wait until the screen has not changed for `quiet` seconds (at most `limit`)."""
        deadline = time.monotonic() + limit
        last, since = self.tui.text(), time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - since < quiet:
            time.sleep(0.02)
            text = self.tui.text()
            if text != last:
                last, since = text, time.monotonic()
        self.tui.check_alive()

    # -- deliberate steps ------------------------------------------------------------------

    def to_main(self) -> bool:
        """Esc (and `n` in a confirmation) until the main screen shows; False if it did not."""
        for _ in range(8):
            state = self.state()
            if state == "main":
                return True
            self.send("n" if state == "answer-confirm" else "escape", "to-main")
            self.pause(0.1, 0.2)
        return self.state() == "main"

    def soft_wait(self, predicate: Any, timeout: float) -> Any:
        """Like Tui.wait_until, but a timeout is no failure (the random keys may have left the
        app somewhere else); the program's death still is."""
        with contextlib.suppress(AssertionError):
            return self.tui.wait_until(predicate, "", timeout)
        self.tui.check_alive()
        return None

    def start_run(self) -> None:
        if not self.to_main():
            self.outcomes["kickoff: main screen not reached"] += 1
            return
        self.send("escape", "kickoff")  # out of the form or the filter, where `c` is a letter
        self.settle()
        if self.state() != "main":  # Esc may let a waiting request open
            self.outcomes["kickoff: something opened after Esc"] += 1
            return
        crew = self.rng.randrange(len(CREWS))
        self.send("c", "kickoff")
        self.pause(0.05, 0.15)
        self.send("home", "kickoff")
        for _ in range(crew):
            self.pause(0.1, 0.15)
            self.send("down", "kickoff")
        name = CREWS[crew]
        if not self.soft_wait(lambda t: f"New run of {name}" in t, 3.0):
            self.outcomes["kickoff: form not shown"] += 1
            return
        self.pause(0.05, 0.15)
        self.send("n", "kickoff")
        text = f"s{self.rng.randrange(10**6)}" if name != "typed" else "7"
        for char in text:
            self.pause(0.02, 0.06)
            self.send(char, "kickoff")
        self.pause(0.05, 0.15)
        self.send("ctrl+s", "kickoff")
        self.kickoffs += 1
        if name == "typed":  # "7" is no marker to find it by
            self.outcomes["kickoff: sent"] += 1
            return
        deadline = time.monotonic() + 3.0
        while not self.sim.kickoffs(name, text):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        else:
            self.outcomes["kickoff: started"] += 1
            return
        # A form the random keys left in raw JSON mode refuses the text; but keys typed
        # for a kickoff must never land in a request that opened meanwhile.
        state = self.state()
        if state in ("modal", "answer-confirm"):
            self.stolen.append(
                f"`n`, {text!r}, Ctrl+S typed to start a run of {name} went into a "
                f"human-input request ({state}); no run was started:\n{self.tui.text()}"
            )
        self.outcomes["kickoff: not started"] += 1

    def open_from_inbox(self) -> str | None:
        """`I`, Down to the first crew's request (a flow's is left alone), Enter: the screen
        with its modal, or None."""
        self.send("I", "answer")
        text = self.soft_wait(lambda t: "Inbox" in t and t, 3.0)
        if not text:
            self.outcomes["answer: inbox not shown"] += 1
            return None
        self.settle()
        lines = self.tui.text().splitlines()
        header = next(
            (i for i, line in enumerate(lines) if re.search(r"Crew\s+Run\s+Kind", line)), None
        )
        rows = lines[header + 1 :] if header is not None else []
        crew_row = next(
            (i for i, line in enumerate(rows) if re.search(r"\s\w{8}\s+crew\s", line)), None
        )
        if crew_row is None:
            self.outcomes["answer: no crew's request in the inbox"] += 1
            self.send("escape", "answer")
            return None
        for _ in range(crew_row):
            self.pause(0.05, 0.15)
            self.send("down", "answer")
        self.pause(0.05, 0.15)
        self.send("enter", "answer")
        text = self.soft_wait(lambda t: any(m in t for m in MODAL_MARKS) and t, 3.0)
        if not text:
            self.outcomes["answer: the inbox opened no request"] += 1
        return text

    def answer(self) -> None:
        """Open a request (`i`, or the inbox) and answer it on purpose, recording what was
        meant."""
        if not self.to_main():
            self.outcomes["answer: main screen not reached"] += 1
            return
        self.send("escape", "answer")  # out of the form or the filter, where `i` is a letter
        self.settle()
        text = self.tui.text()
        if self.state() == "modal":  # a request that opened after Esc: answer that one
            self.outcomes["answer: opened on its own after Esc"] += 1
        elif self.state() != "main":
            self.outcomes["answer: something else opened after Esc"] += 1
            return
        elif self.rng.random() < 0.5:
            self.send("i", "answer")
            text = self.soft_wait(lambda t: any(m in t for m in MODAL_MARKS) and t, 3.0)
            if not text:
                self.outcomes["answer: `i` opened no request"] += 1
                return
        else:
            text = self.open_from_inbox()
            if not text:
                return
        title = next((line for line in text.splitlines() if "Human input" in line), "")
        match = re.search(r"\(crew\)\s+·\s+run (\w{8})\s+·\s+task (\S+)", title)
        if match is None:  # a flow, or a title this soak cannot read: leave it
            self.outcomes["answer: not a crew's request"] += 1
            self.send("escape", "answer")
            return
        sid, task = match.groups()
        self.answers += 1
        feedback = f"soak {self.answers}-{self.rng.randrange(10**4)}"
        for char in feedback:
            self.pause(0.02, 0.06)
            self.send("space" if char == " " else char, "answer")
        if not self.soft_wait(lambda t: feedback in t, 3.0):
            self.outcomes["answer: feedback not shown"] += 1
            self.send("escape", "answer")
            return
        approve = self.rng.random() < 0.6
        self.pause(0.05, 0.15)
        self.send("ctrl+s" if approve else "ctrl+r", "answer")
        question = "Approve task" if approve else "run the task again"
        if not self.soft_wait(lambda t: question in t, 3.0):
            self.outcomes["answer: no confirmation"] += 1
            self.to_main()
            return
        # what the confirmation shows is what goes: a draft kept from keys typed into this
        # request earlier (random ones, here) is part of it, as a person would see
        shown = next(
            (
                re.split(r"[█▌▐│]", line.split("Feedback: ", 1)[1])[0].strip()
                for line in self.tui.text().splitlines()
                if "Feedback: " in line
            ),
            feedback,
        )
        self.intended.append(Intended(sid, task, approve, shown))
        self.outcomes["answer: sent"] += 1
        self.pause(0.05, 0.15)
        self.send("y", "answer")
        self.soft_wait(lambda t: "✓" in t, 5.0)
        self.pause(0.05, 0.15)
        self.send("escape", "answer")

    # -- checking --------------------------------------------------------------------------

    def unintended(self) -> list[dict[str, Any]]:
        """Answers the simulator received that match no answer the soak meant to give."""
        stats = self.sim.stats()
        for intent in self.intended:
            intent.used = False
        wrong = [{"callback": c} for c in stats["callbacks"]]
        for resume in stats["resumes"]:
            body = resume.get("body") or {}
            sid = short_id(str(body.get("execution_id", "")))
            match = next(
                (
                    i
                    for i in self.intended
                    if not i.used
                    and i.sid == sid
                    and i.task == body.get("task_id")
                    and i.approve == body.get("is_approve")
                    and i.feedback == body.get("human_feedback")
                ),
                None,
            )
            if match is None:
                wrong.append(resume)
            else:
                match.used = True
        return wrong


@pytest.fixture
def soak_sim() -> Iterator[SimProcess]:
    process = SimProcess(seed=SEED)
    try:
        yield process
    finally:
        process.close()


@pytest.mark.timeout(120 + (KEYS * 0.3 if KEYS else SECONDS))
def test_random_keys_soak(soak_sim: SimProcess, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    config = soak_sim.config(tmp_path / "config.toml", CREWS)
    tui = Tui(config=config, data_dir=tmp_path / "data", cwd=tmp_path, rng=rng)
    operator = Operator(tui, soak_sim, rng, binding_keys())
    started = time.monotonic()
    failure: str | None = None
    try:
        tui.wait_for("New run of basic")
        next_run = next_answer = time.monotonic()
        while (operator.keys < KEYS) if KEYS else (time.monotonic() - started < SECONDS):
            now = time.monotonic()
            if now >= next_run:
                operator.start_run()
                next_run = time.monotonic() + rng.uniform(4.0, 8.0)
            elif now >= next_answer:
                operator.answer()
                next_answer = time.monotonic() + rng.uniform(8.0, 15.0)
            else:
                operator.random_burst()
            if rng.random() < 0.03:
                operator.pause(0.3, 1.5)  # reading the screen: past the 1-s ticks
            else:
                operator.pause(0.0, 0.15)
            if operator.stolen:
                failure = operator.stolen[0]
                break
            if operator.keys % 200 < 8 and (wrong := operator.unintended()):
                failure = f"answers the soak did not mean to send: {wrong}"
                break
        if failure is None:
            tui.hold(1.5)  # what the last keys set off
            if wrong := operator.unintended():
                failure = f"answers the soak did not mean to send: {wrong}"
    except AppDied as exc:
        failure = str(exc)
    finally:
        tui.close()
    with contextlib.suppress(Exception):
        stats = soak_sim.stats()
        operator.outcomes["runs started (server)"] = stats["kickoffs_accepted"]
        operator.outcomes["answers received (server)"] = len(stats["resumes"])
    summary = (
        f"soak seed {SEED}: {operator.keys} keys in {time.monotonic() - started:.0f} s; "
        f"{dict(sorted(operator.outcomes.items()))} "
        f"(replay: CREWDASH_SOAK_SEED={SEED} CREWDASH_SOAK_KEYS={operator.keys})"
    )
    print(summary)
    if failure is None and tui.traceback is not None:
        failure = tui.describe("crewdash printed a traceback")
    if failure is not None:
        keys = "\n".join(operator.log[-60:])
        pytest.fail(f"{summary}\n{failure}\n--- the last keys ---\n{keys}", pytrace=False)
    stats = soak_sim.stats()
    assert stats["kickoffs_accepted"] > 0, f"{summary}: no run started"


#: runs started beside the read-only dashboard (same data dir), for its keys to act on: one
#: pauses for a person at once, one later, one runs long (a run to stop), one flow asks
READ_ONLY_RUNS = [
    ("review", "brief"),
    ("slowreview", "brief"),
    ("slow", "topic"),
    ("flow", "amount"),
]
#: what the operator tries on purpose now and then, each a way to change something
READ_ONLY_TRIES = [
    ["escape", "c", "home", "down", "n", "s", "1", "2", "ctrl+s"],  # start a run
    ["escape", "r", "home", "s", "y", "enter"],  # stop the first run
    ["escape", "r", "home", "i", "ctrl+s", "y"],  # answer the selected run
    ["escape", "I", "enter", "ctrl+s", "y", "escape"],  # answer from the inbox
    ["escape", "r", "home", "enter", "a", "e", "s", "y", "u", "i", "escape"],  # the run's detail
]


def _mutating(stats: dict[str, Any]) -> dict[str, int]:
    """Every request the simulator saw that could change something (anything but GET)."""
    return {
        f"{crew} {route}": sum(by_status.values())
        for crew, routes in stats["requests"].items()
        for route, by_status in routes.items()
        if not route.startswith("GET ")
    }


@pytest.mark.timeout(180 + READ_ONLY_SECONDS)
def test_random_keys_soak_read_only(soak_sim: SimProcess, tmp_path: Path) -> None:
    """`crewdash --read-only` under the same random operator, on runs that wait for a person,
    run long or are done (started beside it on the same data dir), with every mutating verb
    also tried on purpose: the simulator sees 0 mutating requests from it (it polls)."""
    import subprocess
    import sys

    config = soak_sim.config(tmp_path / "config.toml", CREWS)
    data = tmp_path / "data"
    for crew, field_name in READ_ONLY_RUNS:
        subprocess.run(
            [
                *(sys.executable, "-m", "crewdash", "--config", str(config)),
                *("--data-dir", str(data), "kickoff", crew, "-i", f"{field_name}=ro-{crew}"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    before = _mutating(soak_sim.stats())
    polls_before = soak_sim.stats()["requests_total"]
    rng = random.Random(SEED)
    tui = Tui(config=config, data_dir=data, cwd=tmp_path, rng=rng, args=["--read-only"])
    operator = Operator(tui, soak_sim, rng, binding_keys())
    started = time.monotonic()
    try:
        tui.wait_for("read-only", "slowreview")
        next_try = time.monotonic()
        while time.monotonic() - started < READ_ONLY_SECONDS:
            if time.monotonic() >= next_try:
                for key in rng.choice(READ_ONLY_TRIES):
                    operator.send(key, "try")
                    operator.pause(0.05, 0.15)
                next_try = time.monotonic() + rng.uniform(1.0, 3.0)
            else:
                operator.random_burst()
            operator.pause(0.0, 0.15)
        tui.hold(1.5)  # what the last keys set off
        tui.check_alive()
    finally:
        tui.close()
    summary = f"read-only soak seed {SEED}: {operator.keys} keys"
    assert tui.traceback is None, tui.describe("crewdash printed a traceback")
    stats = soak_sim.stats()
    assert _mutating(stats) == before, f"{summary}: mutating requests sent"
    assert stats["requests_total"] > polls_before, f"{summary}: the dashboard never polled"
    assert operator.keys > 50, summary
