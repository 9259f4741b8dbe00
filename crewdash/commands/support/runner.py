"""Running a command's coroutine: Ctrl+C handling, expected errors, exit codes.

Ctrl+C (SIGINT) sets `session.interrupted`. A command that declared itself `graceful` (batch,
watch, kickoff) finishes what is in flight and returns on its own; any other is cancelled at
once. A second Ctrl+C always cancels. Either way the exit code is 130 and every expected error
is one line on stderr (plus a JSON error object on stdout with `--json`), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from crewdash.aop.errors import AOPError
from crewdash.commands.support.common import ExitCode
from crewdash.commands.support.errors import CliError, exit_code_for, kind_for
from crewdash.commands.support.output import Output
from crewdash.core.config.errors import ConfigError
from crewdash.core.engine_clients import EngineError  # not .engine: batch never loads it
from crewdash.core.inbox.inbox import InboxError
from crewdash.core.runs.resolve import ResolveError
from crewdash.core.store.database import StoreError


@dataclass
class Session:
    """What a running command gets: its arguments, its output, and the Ctrl+C signal."""

    args: argparse.Namespace
    out: Output
    graceful: bool = False
    interrupted: asyncio.Event = field(default_factory=asyncio.Event)
    interrupts: int = 0
    #: printed when the command is interrupted: how to pick up again
    resume_hint: str | None = None

    async def wait_interrupt_or(self, aw: Awaitable[object], within: float | None) -> str:
        """Wait for `aw`, Ctrl+C or the timeout: returns "done", "interrupted" or "timeout"."""
        work = asyncio.ensure_future(aw)
        stop = asyncio.ensure_future(self.interrupted.wait())
        try:
            done, _ = await asyncio.wait(
                {work, stop}, timeout=within, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for fut in (work, stop):
                if not fut.done():
                    fut.cancel()
            await asyncio.gather(work, stop, return_exceptions=True)
        if work in done:
            work.result()  # re-raise its error
            return "done"
        return "interrupted" if stop in done else "timeout"


Body = Callable[[Session], Awaitable[int]]


def run_command(args: argparse.Namespace, body: Body, *, graceful: bool = False) -> int:
    out = Output(json_mode=bool(getattr(args, "json", False)))
    session_box: list[Session] = []
    try:
        code = asyncio.run(_main(args, out, body, graceful, session_box))
    except KeyboardInterrupt:  # SIGINT before our handler was installed or after it left
        code = ExitCode.INTERRUPTED
    except (
        CliError,
        AOPError,
        ConfigError,
        EngineError,
        InboxError,
        StoreError,
        ResolveError,
    ) as exc:
        code = exit_code_for(exc)
        out.end_progress()
        out.error(str(exc), kind=kind_for(exc), code=code)
        return int(code)
    if code == ExitCode.INTERRUPTED:
        out.end_progress()
        hint = session_box[0].resume_hint if session_box else None
        message = "interrupted" + (f"; {hint}" if hint else "")
        out.error(message, kind="interrupted", code=code)
    return int(code)


async def _main(
    args: argparse.Namespace, out: Output, body: Body, graceful: bool, box: list[Session]
) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    session = Session(args=args, out=out, graceful=graceful)
    box.append(session)

    def on_sigint() -> None:
        session.interrupts += 1
        session.interrupted.set()
        if not session.graceful or session.interrupts > 1:
            task.cancel()
        elif session.interrupts == 1:
            out.info("crewdash: stopping after what is in flight (Ctrl+C again to abort)")

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
        installed = False
    try:
        code = await body(session)
        return ExitCode.INTERRUPTED if session.interrupted.is_set() else code
    except asyncio.CancelledError:
        if not session.interrupted.is_set():
            raise
        task.uncancel()
        return ExitCode.INTERRUPTED
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)
