"""KICKOFF_ID arguments: a full kickoff id, or a unique prefix of one the local store knows.

The dashboard shows kickoff ids in 8 characters (`1a31dd98`); every command that takes a
KICKOFF_ID accepts such a prefix (at least `MIN_PREFIX` characters, dashes and case ignored)
of a run of that crew in the local store and works on the full id. A full id the store does
not know still goes to the deployment as given (a run crewdash did not start)."""

from __future__ import annotations

import re

from crewdash.commands.support.errors import CliError
from crewdash.commands.support.time import local_clock
from crewdash.core.models import RunRecord
from crewdash.core.store.database import RunStore

MIN_PREFIX = 6
_SHOWN = 5  # candidates listed when a prefix is ambiguous
# What a prefix of a (UUID) kickoff id can look like: hex digits and dashes, fewer than the
# 32 hex digits of a whole UUID. Anything else not in the store is a full id for the server.
_PREFIX = re.compile(r"[0-9a-fA-F-]+")


def _key(kickoff_id: str) -> str:
    return kickoff_id.replace("-", "").lower()


def _is_prefix_like(text: str) -> bool:
    return bool(_PREFIX.fullmatch(text)) and len(_key(text)) < 32


def resolve_kickoff_id(store: RunStore, crew: str, text: str) -> str:
    """The full kickoff id `text` names for `crew`; see the module docstring. Raises CliError
    (exit 2) for a prefix that is too short, matches several runs (listed), or none."""
    text = text.strip()
    if not text or store.find_by_kickoff_id(crew, text) is not None:
        return text
    if not _is_prefix_like(text):
        return text  # a full id of a run the store does not know: the server decides
    key = _key(text)
    if len(key) < MIN_PREFIX:
        raise CliError(
            f"kickoff id {text!r} is too short: give at least {MIN_PREFIX} characters "
            "(the dashboard shows 8)",
            kind="ambiguous_id",
        )
    matches = [
        run
        for run in store.list_runs(crew=crew)
        if run.kickoff_id is not None and _key(run.kickoff_id).startswith(key)
    ]
    if len(matches) == 1:
        assert matches[0].kickoff_id is not None
        return matches[0].kickoff_id
    if not matches:
        raise CliError(
            f"no run of crew {crew} in the local store has a kickoff id starting with "
            f"{text!r}; give the full kickoff id to ask the deployment",
            kind="unknown_run",
        )
    listed = "; ".join(_candidate(run) for run in matches[:_SHOWN])
    more = f"; and {len(matches) - _SHOWN} more" if len(matches) > _SHOWN else ""
    raise CliError(
        f"kickoff id {text!r} is ambiguous: {len(matches)} runs of crew {crew} start with it "
        f"({listed}{more}); give more characters",
        kind="ambiguous_id",
    )


def _candidate(run: RunRecord) -> str:
    return f"{run.kickoff_id} {run.state}, started {local_clock(run.created_at)}"


def find_stored_run(store: RunStore, crew: str, text: str) -> RunRecord:
    """The run of `crew` in the local store that `text` names: its local id, its kickoff id,
    or a unique prefix of either (at least `MIN_PREFIX` characters; the dashboard shows 8).
    Raises CliError (exit 2): unknown, ambiguous, too short, or a run of another crew."""
    text = text.strip()
    found = (store.get(text) or store.find_by_kickoff_id(crew, text)) if text else None
    if found is None and text:  # another crew's run, said so below
        found = next((r for r in store.list_runs() if r.kickoff_id == text), None)
    if found is None:
        found = _stored_by_prefix(store, crew, text)
    if found.crew != crew:
        raise CliError(
            f"run {text!r} is a run of crew {found.crew}, not of {crew}", kind="wrong_crew"
        )
    return found


def _stored_by_prefix(store: RunStore, crew: str, text: str) -> RunRecord:
    key = _key(text)
    if len(key) < MIN_PREFIX:
        raise CliError(
            f"run id {text!r} is too short: give at least {MIN_PREFIX} characters "
            "(the dashboard shows 8)",
            kind="ambiguous_id",
        )

    def named(run: RunRecord) -> bool:
        return run.local_id.startswith(key) or _key(run.kickoff_id or "").startswith(key)

    matches = [run for run in store.list_runs(crew=crew) if named(run)]
    if not matches:  # another crew's run: say so rather than "unknown"
        matches = [run for run in store.list_runs() if named(run)]
        if not matches:
            raise CliError(
                f"no run {text!r} in the local store (see `crewdash runs --crew {crew}`)",
                kind="unknown_run",
            )
    if len(matches) == 1:
        return matches[0]
    listed = "; ".join(
        f"{run.kickoff_id or run.local_id} {run.state}, started {local_clock(run.created_at)}"
        for run in matches[:_SHOWN]
    )
    more = f"; and {len(matches) - _SHOWN} more" if len(matches) > _SHOWN else ""
    raise CliError(
        f"run id {text!r} is ambiguous: {len(matches)} runs start with it "
        f"({listed}{more}); give more characters",
        kind="ambiguous_id",
    )
