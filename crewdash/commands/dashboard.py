"""`crewdash` (no subcommand) and `crewdash dashboard`: open the dashboard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # types only: each is imported where it is used, after the first frame
    import argparse
    import contextlib
    from pathlib import Path

    from crewdash.core.config.model import Config
    from crewdash.core.engine import Engine
    from crewdash.core.store.database import RunStore
    from crewdash.tui.app import CrewdashApp


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="open the dashboard (also what `crewdash` alone does)",
        description="Open the dashboard on the configured crews.",
    )
    parser.set_defaults(handler="crewdash.commands.dashboard:run")


class DashboardCrashed(Exception):
    """The dashboard stopped on an unexpected error; `report` is its crash report."""

    def __init__(self, report: object) -> None:
        super().__init__(str(report))
        self.report = report


def crashed(exc: DashboardCrashed) -> int:
    """Say where the report is, in one line, and give the crash exit code (70)."""
    import sys
    from pathlib import Path

    from crewdash.tui.crash import CRASH_EXIT_CODE, crash_line

    if isinstance(exc.report, Path):
        print(f"crewdash: {crash_line(exc.report)}", file=sys.stderr)
    else:
        print("crewdash: stopped on an unexpected error.", file=sys.stderr)
    return CRASH_EXIT_CODE


def run(args: argparse.Namespace) -> int:
    """Load config, open the dashboard; come back after the first-run screen saved a crew."""
    import sys

    from crewdash.core.config.errors import ConfigError
    from crewdash.core.config.load import load_config
    from crewdash.core.config.paths import resolve_config_path, resolve_data_dir

    config_path = resolve_config_path(getattr(args, "config", None))
    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    mode = Mode(bool(getattr(args, "read_only", False)), getattr(args, "via", None))
    while True:
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            print(f"crewdash: {exc}", file=sys.stderr)
            return 2
        try:
            result = open_dashboard(config, data_dir, config_path, mode)
        except DashboardCrashed as exc:
            return crashed(exc)
        if result == "reload":
            continue
        if result == "demo":
            from crewdash.commands.demo import run_demo

            return run_demo()
        return 0


class Mode(NamedTuple):
    """How the dashboard may act: `read_only` (`--read-only`: no verb that changes anything),
    and `channel`, where its answers are given when not a terminal (`crewdash serve`'s
    pages: "browser", the decisions' audit says so)."""

    read_only: bool = False
    channel: str | None = None


def open_dashboard(
    config: Config, data_dir: Path, config_path: Path | None, mode: Mode | None = None
) -> str | None:
    """Run the app on `config` with the store in `data_dir` until the operator leaves."""
    import asyncio

    return asyncio.run(run_app(config, data_dir, config_path, mode=mode or Mode()))


async def run_app(
    config: Config,
    data_dir: Path,
    config_path: Path | None,
    *,
    demo: bool = False,
    before_engine: Callable[[contextlib.AsyncExitStack], Awaitable[None]] | None = None,
    crash_dir: Path | None = None,
    mode: Mode | None = None,
) -> str | None:
    """The app on the running loop (so the demo's simulator can share it).

    The engine and its store are built by the app after its first frame (`DeferredEngine`):
    the engine's imports (httpx, uvicorn) and start-up do not delay the first paint.
    `before_engine` is awaited then too, just before the engine is built (the demo starts
    its simulator there), on the engine's thread: what it enters into the exit stack it is
    given (the simulator's server) is closed there, after the engine stopped.

    The garbage collector is off from the app's import until its first frame is on the
    screen: what is built meanwhile (modules, mostly Textual's, then the screen, widgets,
    styles, the stylesheet's rules) lives as long as the process, so the collections its
    allocations triggered found next to nothing to free (~5 ms measured), and a full one
    walked the modules while the first frame was built (~16 ms). After the first frame all
    that is frozen, out of every later collection's sight, and collection resumes
    (`collect_from_now_on`).

    An unexpected error ends the app with a crash report (under `crash_dir`, else the data
    directory) and raises DashboardCrashed; warnings and errors that are logged go to
    `crewdash.log` in the data directory, never to the terminal the app draws on."""
    import contextlib
    import gc

    mode = mode or Mode()
    stores: list[RunStore] = []
    resources = contextlib.AsyncExitStack()  # entered and closed on the engine's thread
    gc.disable()
    try:
        app = _make_app(
            config,
            data_dir,
            config_path,
            _engine_builder(config, data_dir, before_engine, stores, resources, mode),
            resources.aclose,
            demo=demo,
            crash_dir=crash_dir,
            read_only=mode.read_only,
        )
        result = await app.run_async()
        _raise_if_crashed(app)
        return result
    finally:
        gc.enable()  # also when the app ended before its first frame
        for store in stores:
            store.close()


def _engine_builder(
    config: Config,
    data_dir: Path,
    before_engine: Callable[[contextlib.AsyncExitStack], Awaitable[None]] | None,
    stores: list[RunStore],
    resources: contextlib.AsyncExitStack,
    mode: Mode,
) -> Callable[[], Awaitable[Engine]]:
    """What the app calls after its first frame to get its engine; the store it opens is
    appended to `stores`, for `run_app` to close."""

    async def build_engine() -> Engine:
        from crewdash.core.engine import Engine

        if before_engine is not None:
            await before_engine(resources)
        store = _open_store(data_dir, mode.channel)
        stores.append(store)
        return Engine(config, store, read_only=mode.read_only, channel=mode.channel)

    return build_engine


def _open_store(data_dir: Path, channel: str | None) -> RunStore:
    """The run store in `data_dir`, made if need be (blocking, as every call of the store is);
    `channel` names where its actions come from in the audit trail ("browser" for a page of
    `crewdash serve`), the dashboard by default."""
    from crewdash.core.audit import DASHBOARD
    from crewdash.core.store.database import RunStore, store_path

    data_dir.mkdir(parents=True, exist_ok=True)
    return RunStore.open(store_path(data_dir), channel=channel or DASHBOARD)


def _make_app(
    config: Config,
    data_dir: Path,
    config_path: Path | None,
    build_engine: Callable[[], Awaitable[Engine]],
    after_stop: Callable[[], Awaitable[None]],
    *,
    demo: bool,
    crash_dir: Path | None,
    read_only: bool = False,
) -> CrewdashApp:
    """The app, imported here: with the garbage collector off (see `run_app`). Its engine
    runs on a thread of its own (`crewdash.core.engine_thread`)."""
    from crewdash.core.engine_thread import EngineThread
    from crewdash.tui.app import CrewdashApp
    from crewdash.tui.engine_handle import DeferredEngine

    log_to_file(data_dir)
    app = CrewdashApp(
        DeferredEngine(config, build_engine, thread=EngineThread(), after_stop=after_stop),
        data_dir=data_dir,
        config_path=config_path,
        demo=demo,
        after_first_frame=collect_from_now_on,
        read_only=read_only,
    )
    if crash_dir is not None:
        app.crash_dir = crash_dir
    return app


def _raise_if_crashed(app: CrewdashApp) -> None:
    """DashboardCrashed when the app ended on an error, or ended without being asked to."""
    if app.crash_report is not None or (app.return_code or 0) != 0:
        raise DashboardCrashed(app.crash_report)
    if app.return_code is None:
        # the app's message loop ended without exit() (Textual ends it quietly when a
        # handler raises CancelledError): a defect, never a success
        from crewdash.tui.crash import write_crash_report

        error = RuntimeError("the dashboard stopped without being asked to (exit code unset)")
        raise DashboardCrashed(write_crash_report(app.crash_dir, error))


def log_to_file(data_dir: Path) -> None:
    """Warnings and errors go to `<data dir>/crewdash.log` (opened on the first record): with
    no handler Python prints them on stderr, over the dashboard's screen."""
    import logging

    root = logging.getLogger()
    if any(getattr(h, "crewdash", False) for h in root.handlers):
        return
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # the store will say what is wrong with the folder
    handler = logging.FileHandler(data_dir / "crewdash.log", delay=True, encoding="utf-8")
    handler.crewdash = True  # type: ignore[attr-defined]  # marks ours: added once
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def collect_from_now_on() -> None:
    """After the first frame: what is alive now stays (see `run_app`); collect what comes."""
    import gc

    gc.freeze()
    gc.enable()
