"""What commands need from the layers below: the config, a crew, the run store, a client,
the engine — each opened the same way by every command."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from crewdash.aop import AsyncCrewClient
from crewdash.commands.support.common import ExitCode
from crewdash.commands.support.errors import CliError
from crewdash.core.config.load import (
    load_config,
    resolve_config_path,
    resolve_data_dir,
    resolve_token,
)
from crewdash.core.config.model import Config, CrewConfig
from crewdash.core.runs.status_route import load_status_route, save_status_route
from crewdash.core.store.database import RunStore
from crewdash.core.store.database import store_path as store_path_in

if TYPE_CHECKING:
    from crewdash.core.engine import Engine
    from crewdash.core.runs.pacer import Pacer


def config_from(args: argparse.Namespace) -> Config:
    return load_config(resolve_config_path(getattr(args, "config", None)))


def crew_from(config: Config, name: str) -> CrewConfig:
    crew = config.crews.get(name)
    if crew is None:
        known = ", ".join(sorted(config.crews)) or "none configured"
        where = f" in {config.path}" if config.path else ""
        raise CliError(
            f"no crew named {name!r}{where} (known: {known}; add one with `crewdash crews add`)",
            code=ExitCode.USAGE,
            kind="unknown_crew",
        )
    return crew


def store_path(args: argparse.Namespace) -> Path:
    return store_path_in(resolve_data_dir(getattr(args, "data_dir", None)))


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[RunStore]:
    """The run store; what is written through it is audited as `cli:<command>`."""
    from crewdash.core.audit import cli_channel

    command = getattr(args, "command", None) or "crewdash"
    store = RunStore.open(store_path(args), channel=cli_channel(command))
    try:
        yield store
    finally:
        store.close()


@asynccontextmanager
async def crew_client(crew: CrewConfig, store: RunStore | None) -> AsyncIterator[AsyncCrewClient]:
    """A client for one crew that remembers, through the store, which status route works
    and the request rate the crew allows (`client.pacer`, for kickoffs too)."""
    from crewdash.core.runs.pacer import Pacer

    route = None if store is None else load_status_route(store, crew.name)
    client = AsyncCrewClient(
        crew.url,
        resolve_token(crew),
        connect_timeout=crew.connect_timeout,
        read_timeout=crew.read_timeout,
        status_route=route,
        pacer=Pacer(crew.name, store=store),  # the crew's pace: learnt from 429s, kept
    )
    try:
        async with client:
            yield client
    finally:
        learnt = client.status_route
        if store is not None and learnt != route:
            save_status_route(store, crew.name, learnt)


def pacer_of(client: AsyncCrewClient) -> Pacer:
    """The pacer `crew_client` gave the client: kickoffs wait for the same pace as every
    other request to the crew."""
    from crewdash.core.runs.pacer import Pacer

    pacer = client.pacer
    assert isinstance(pacer, Pacer), "crew_client always gives its client a core Pacer"
    return pacer


@asynccontextmanager
async def running_engine(
    config: Config,
    store: RunStore,
    crews: Iterable[str],
    say: Callable[[str], None] | None = None,
) -> AsyncIterator[Engine]:
    """The engine started on this store for the given crews only (tracking their unfinished
    runs), stopped on exit. A headless command speaks only of the crews it was asked about:
    the engine neither probes nor polls the others, so it has nothing to say of them.
    The receiver, if configured, is started only when its port is free; otherwise the
    command polls, and `say` gets one line about it."""
    from crewdash.core.engine import Engine

    wanted = set(crews)
    only = {name: crew for name, crew in config.crews.items() if name in wanted}
    engine = Engine(replace(config, crews=only), store)
    await engine.start(receiver_optional=True)
    if engine.receiver_note and say is not None:
        say(engine.receiver_note)
    try:
        yield engine
    finally:
        await engine.stop()
