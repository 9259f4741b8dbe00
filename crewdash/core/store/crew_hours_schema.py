"""Migration v8's tables and triggers: per-crew hourly buckets of runs and human-input waits
(issue 14, per-crew trends), kept by SQLite triggers so no write path (nor another process)
can forget them, and filled from the rows already there.

- `crew_hours`: per crew and UTC hour, runs started (accepted kickoffs, by creation hour) and
  runs finished (by end hour: `finished_at`, else `updated_at` when the end is unknown), split
  into completed, failed (state error) and stopped.
- `crew_hour_bins`: per crew and hour, how many samples fell in each duration bin of
  `crewdash.core.store.hour_bins`: metric 'run' = completed runs with a known end
  (finished_at - created_at, in their end hour); metric 'wait' = human-input requests
  answered from a crewdash sharing the store (decision accepted; answered_at - the request's
  received_at, in the answer hour).

A row's contribution is taken back and given again when what it contributes changes (a
trigger's WHEN compares the old and new keys), so the buckets always equal a recompute from
the rows; rows left all zero are dropped. Keys are (hour, crew, …): a window of hours is one
range scan whatever the history's length.

Frozen with v8: edit nothing here; a change of bins or meaning is a new migration.
"""

from __future__ import annotations

import sqlite3

from crewdash.core.store.hour_bins import bin_sql

FINAL = "('completed', 'error', 'stopped')"


def _hour(expr: str) -> str:
    return f"(CAST(({expr}) / 3600 AS INTEGER) * 3600)"


def _run_exprs(row: str) -> dict[str, str]:
    """The SQL of what run row `row` (NEW/OLD/a table alias) contributes."""
    end = f"COALESCE({row}.finished_at, {row}.updated_at)"
    return {
        "started": f"{row}.phase = 'accepted'",
        "start_hour": _hour(f"{row}.created_at"),
        "finished": f"({row}.phase = 'accepted' AND {row}.state IN {FINAL})",
        "end_hour": _hour(end),
        "timed": f"({row}.phase = 'accepted' AND {row}.state = 'completed'"
        f" AND {row}.finished_at IS NOT NULL)",
        "bin": bin_sql(f"{row}.finished_at - {row}.created_at"),
        "start_key": f"(CASE WHEN {row}.phase = 'accepted' THEN {row}.crew || '|' ||"
        f" {_hour(f'{row}.created_at')} END)",
        "end_key": f"(CASE WHEN {row}.phase = 'accepted' AND {row}.state IN {FINAL} THEN"
        f" {row}.crew || '|' || {_hour(end)} || '|' || {row}.state || '|' ||"
        f" COALESCE({bin_sql(f'{row}.finished_at - {row}.created_at')}, '') END)",
    }


def _add_start(row: str) -> str:
    e = _run_exprs(row)
    return (
        "INSERT INTO crew_hours (hour, crew, started)"
        f" SELECT {e['start_hour']}, {row}.crew, 1 WHERE {e['started']}"
        " ON CONFLICT (hour, crew) DO UPDATE SET started = started + 1;"
    )


def _take_start(row: str) -> str:
    e = _run_exprs(row)
    where = f"hour = {e['start_hour']} AND crew = {row}.crew AND {e['started']}"
    return (
        f"UPDATE crew_hours SET started = started - 1 WHERE {where};"
        f" DELETE FROM crew_hours WHERE {where} AND started = 0 AND finished = 0;"
    )


def _add_end(row: str) -> str:
    e = _run_exprs(row)
    return (
        "INSERT INTO crew_hours (hour, crew, finished, completed, failed, stopped)"
        f" SELECT {e['end_hour']}, {row}.crew, 1, {row}.state = 'completed',"
        f" {row}.state = 'error', {row}.state = 'stopped' WHERE {e['finished']}"
        " ON CONFLICT (hour, crew) DO UPDATE SET finished = finished + 1,"
        " completed = completed + excluded.completed, failed = failed + excluded.failed,"
        " stopped = stopped + excluded.stopped;"
        " INSERT INTO crew_hour_bins (hour, crew, metric, bin, n)"
        f" SELECT {e['end_hour']}, {row}.crew, 'run', {e['bin']}, 1 WHERE {e['timed']}"
        " ON CONFLICT (hour, crew, metric, bin) DO UPDATE SET n = n + 1;"
    )


def _take_end(row: str) -> str:
    e = _run_exprs(row)
    where = f"hour = {e['end_hour']} AND crew = {row}.crew"
    bin_where = f"{where} AND metric = 'run' AND bin = {e['bin']} AND {e['timed']}"
    return (
        "UPDATE crew_hours SET finished = finished - 1,"
        f" completed = completed - ({row}.state = 'completed'),"
        f" failed = failed - ({row}.state = 'error'),"
        f" stopped = stopped - ({row}.state = 'stopped') WHERE {where} AND {e['finished']};"
        f" DELETE FROM crew_hours WHERE {where} AND started = 0 AND finished = 0;"
        f" UPDATE crew_hour_bins SET n = n - 1 WHERE {bin_where};"
        f" DELETE FROM crew_hour_bins WHERE {bin_where} AND n = 0;"
    )


def _wait(row: str) -> tuple[str, str, str]:
    """(condition, hour, bin) of what decision row `row` contributes; `r` is its request."""
    return (
        f"{row}.outcome = 'accepted' AND {row}.answered_at IS NOT NULL",
        _hour(f"{row}.answered_at"),
        bin_sql(f"{row}.answered_at - r.received_at"),
    )


def _add_wait(row: str) -> str:
    cond, hour, bin_ = _wait(row)
    return (
        "INSERT INTO crew_hour_bins (hour, crew, metric, bin, n)"
        f" SELECT {hour}, r.crew, 'wait', {bin_}, 1 FROM human_requests r"
        f" WHERE r.id = {row}.request_id AND {cond}"
        " ON CONFLICT (hour, crew, metric, bin) DO UPDATE SET n = n + 1;"
    )


def _take_wait(row: str) -> str:
    cond, hour, bin_ = _wait(row)
    where = (
        # qualified: inside the subquery a bare `crew` would be the request's
        f"crew_hour_bins.hour = {hour} AND crew_hour_bins.crew = r.crew"
        f" AND crew_hour_bins.metric = 'wait' AND crew_hour_bins.bin = {bin_}"
        f" AND r.id = {row}.request_id AND {cond}"
    )
    return (
        f"UPDATE crew_hour_bins SET n = n - 1 WHERE EXISTS (SELECT 1 FROM human_requests r"
        f" WHERE {where});"
        f" DELETE FROM crew_hour_bins WHERE n = 0 AND EXISTS (SELECT 1 FROM human_requests r"
        f" WHERE {where});"
    )


def _request_waits(req: str) -> tuple[str, str]:
    """(take, add): the samples of every accepted decision of request row `req` (OLD/NEW),
    taken back or given again (its crew or arrival changed: rare, but the buckets follow)."""
    cond, hour, _ = _wait("d")
    bin_ = bin_sql(f"d.answered_at - {req}.received_at")
    mine = f"FROM decisions d WHERE d.request_id = {req}.id AND {cond}"
    take = (
        "UPDATE crew_hour_bins SET n = n - (SELECT COUNT(*)"
        f" {mine} AND {hour} = crew_hour_bins.hour AND {bin_} = crew_hour_bins.bin)"
        f" WHERE crew = {req}.crew AND metric = 'wait' AND hour IN (SELECT {hour} {mine});"
        f" DELETE FROM crew_hour_bins WHERE crew = {req}.crew AND metric = 'wait' AND n = 0"
        f" AND hour IN (SELECT {hour} {mine});"
    )
    add = (
        "INSERT INTO crew_hour_bins (hour, crew, metric, bin, n)"
        f" SELECT {hour}, {req}.crew, 'wait', {bin_}, 1 {mine}"
        " ON CONFLICT (hour, crew, metric, bin) DO UPDATE SET n = n + 1;"
    )
    return take, add


def _backfill(conn: sqlite3.Connection) -> None:
    run = _run_exprs("runs")
    conn.execute(
        "INSERT INTO crew_hours (hour, crew, started, finished, completed, failed, stopped)"
        " SELECT hour, crew, SUM(s), SUM(f), SUM(c), SUM(e), SUM(x) FROM ("
        f" SELECT {run['start_hour']} AS hour, crew, 1 AS s, 0 AS f, 0 AS c, 0 AS e, 0 AS x"
        f" FROM runs WHERE {run['started']} UNION ALL"
        f" SELECT {run['end_hour']}, crew, 0, 1, state = 'completed', state = 'error',"
        f" state = 'stopped' FROM runs WHERE {run['finished']}"
        ") GROUP BY hour, crew"
    )
    conn.execute(
        "INSERT INTO crew_hour_bins (hour, crew, metric, bin, n)"
        f" SELECT {run['end_hour']}, crew, 'run', {run['bin']}, COUNT(*) FROM runs"
        f" WHERE {run['timed']} GROUP BY 1, 2, 4"
    )
    cond, hour, bin_ = _wait("d")
    conn.execute(
        "INSERT INTO crew_hour_bins (hour, crew, metric, bin, n)"
        f" SELECT {hour}, r.crew, 'wait', {bin_}, COUNT(*) FROM decisions d"
        f" JOIN human_requests r ON r.id = d.request_id WHERE {cond} GROUP BY 1, 2, 4"
    )


def create_crew_hours(conn: sqlite3.Connection) -> None:
    """The tables, their triggers, and the backfill (see the module docstring)."""
    conn.execute(
        "CREATE TABLE crew_hours (hour INTEGER NOT NULL, crew TEXT NOT NULL,"
        " started INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0,"
        " completed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,"
        " stopped INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (hour, crew)) WITHOUT ROWID"
    )
    conn.execute(
        "CREATE TABLE crew_hour_bins (hour INTEGER NOT NULL, crew TEXT NOT NULL,"
        " metric TEXT NOT NULL, bin INTEGER NOT NULL, n INTEGER NOT NULL,"
        " PRIMARY KEY (hour, crew, metric, bin)) WITHOUT ROWID"
    )
    old, new = _run_exprs("OLD"), _run_exprs("NEW")
    watched = "crew, phase, state, created_at, finished_at, updated_at"
    for name, body in (
        ("runs_insert", f"AFTER INSERT ON runs BEGIN {_add_start('NEW')} {_add_end('NEW')}"),
        (
            "runs_start",
            f"AFTER UPDATE OF {watched} ON runs WHEN {old['start_key']} IS NOT"
            f" {new['start_key']} BEGIN {_take_start('OLD')} {_add_start('NEW')}",
        ),
        (
            "runs_end",
            f"AFTER UPDATE OF {watched} ON runs WHEN {old['end_key']} IS NOT {new['end_key']}"
            f" BEGIN {_take_end('OLD')} {_add_end('NEW')}",
        ),
        ("runs_delete", f"AFTER DELETE ON runs BEGIN {_take_start('OLD')} {_take_end('OLD')}"),
        ("decisions_insert", f"AFTER INSERT ON decisions BEGIN {_add_wait('NEW')}"),
        (
            "decisions_update",
            "AFTER UPDATE OF outcome, answered_at, request_id ON decisions WHEN"
            " OLD.outcome IS NOT NEW.outcome OR OLD.answered_at IS NOT NEW.answered_at"
            " OR OLD.request_id IS NOT NEW.request_id"
            f" BEGIN {_take_wait('OLD')} {_add_wait('NEW')}",
        ),
        ("decisions_delete", f"AFTER DELETE ON decisions BEGIN {_take_wait('OLD')}"),
        (
            "requests_update",
            "AFTER UPDATE OF id, crew, received_at ON human_requests WHEN OLD.id IS NOT NEW.id"
            " OR OLD.crew IS NOT NEW.crew OR OLD.received_at IS NOT NEW.received_at"
            f" BEGIN {_request_waits('OLD')[0]} {_request_waits('NEW')[1]}",
        ),
        (
            "requests_delete",
            f"AFTER DELETE ON human_requests BEGIN {_request_waits('OLD')[0]}",
        ),
    ):
        conn.execute(f"CREATE TRIGGER crew_hours_{name} {body} END")
    _backfill(conn)
