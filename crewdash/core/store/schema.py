"""The run store's schema: an ordered list of migrations tracked by `PRAGMA user_version`.

Migration N brings a file from version N-1 to N. Never edit a released migration; append a new
one. Each runs in its own transaction together with the version bump, so a crash mid-migration
leaves the file at the previous version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _v1_runs(conn: sqlite3.Connection) -> None:
    """The first schema: runs, their history, human-input requests, decisions, meta.

    Long because it is all SQL text, and a released migration is never edited: it stays whole.
    """
    conn.execute(
        """
        CREATE TABLE runs (
            local_id        TEXT PRIMARY KEY,
            crew            TEXT NOT NULL,
            inputs_json     TEXT NOT NULL,
            request_id      TEXT NOT NULL UNIQUE,
            webhooks_json   TEXT NOT NULL DEFAULT '{}',
            created_at      REAL NOT NULL,
            updated_at      REAL NOT NULL,
            finished_at     REAL,
            phase           TEXT NOT NULL,
            kickoff_id      TEXT,
            state           TEXT NOT NULL,
            raw_state       TEXT NOT NULL,
            current_task    TEXT,
            completed_tasks INTEGER,
            total_tasks     INTEGER,
            result_json     TEXT,
            error           TEXT,
            stalled         INTEGER NOT NULL DEFAULT 0,
            offline_since   REAL,
            note            TEXT
        )
        """
    )
    conn.execute("CREATE INDEX runs_created ON runs(created_at)")
    conn.execute("CREATE INDEX runs_kickoff ON runs(crew, kickoff_id)")
    conn.execute(
        """
        CREATE TABLE state_changes (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            local_id     TEXT NOT NULL REFERENCES runs(local_id),
            at           REAL NOT NULL,
            raw_state    TEXT NOT NULL,
            state        TEXT NOT NULL,
            current_task TEXT,
            detail       TEXT
        )
        """
    )
    conn.execute("CREATE INDEX state_changes_run ON state_changes(local_id, id)")
    conn.execute(
        """
        CREATE TABLE human_requests (
            id           TEXT PRIMARY KEY,
            crew         TEXT NOT NULL,
            source       TEXT NOT NULL,
            received_at  REAL NOT NULL,
            kickoff_id   TEXT,
            local_id     TEXT,
            task_id      TEXT,
            prompt       TEXT NOT NULL DEFAULT '',
            output       TEXT NOT NULL DEFAULT '',
            context      TEXT NOT NULL DEFAULT '',
            emit_json    TEXT NOT NULL DEFAULT '[]',
            callback_url TEXT,
            sla_minutes  REAL,
            assigned_to  TEXT,
            answered     TEXT
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE decisions (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id    TEXT NOT NULL,
            user          TEXT NOT NULL,
            at            REAL NOT NULL,
            feedback      TEXT NOT NULL,
            approve       INTEGER,
            choice        TEXT,
            channel       TEXT NOT NULL,
            outcome       TEXT NOT NULL,
            server_answer TEXT,
            answered_at   REAL
        )
        """
    )
    conn.execute("CREATE INDEX decisions_request ON decisions(request_id, id)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _v2_batches(conn: sqlite3.Connection) -> None:
    # Batches came after single runs: a row of a batch maps to the run started for it, written
    # in the same transaction as the run's intent so a resumed batch never starts a row twice.
    conn.execute(
        """
        CREATE TABLE batch_rows (
            batch_key TEXT NOT NULL,
            row_key   TEXT NOT NULL,
            local_id  TEXT NOT NULL REFERENCES runs(local_id),
            at        REAL NOT NULL,
            PRIMARY KEY (batch_key, row_key)
        )
        """
    )


def _v3_request_identity(conn: sqlite3.Connection) -> None:
    # One request per pause whatever channel reported it: its round (`attempt`), the flow
    # request id a signed delivery brought (a request first seen by another channel keeps its
    # own id), and whether it is a flow's. Rows of older files keep their ids: the round is
    # read from the `#N` suffix, a flow delivery's id is its flow request id.
    for name, decl in (
        ("attempt", "INTEGER NOT NULL DEFAULT 1"),
        ("flow_request_id", "TEXT"),
        ("flow", "INTEGER NOT NULL DEFAULT 0"),
    ):
        conn.execute(f"ALTER TABLE human_requests ADD COLUMN {name} {decl}")
    for (rid,) in conn.execute("SELECT id FROM human_requests WHERE id LIKE '%#%'").fetchall():
        suffix = rid.rpartition("#")[2]
        if suffix.isdigit() and int(suffix) > 1:
            conn.execute("UPDATE human_requests SET attempt = ? WHERE id = ?", (int(suffix), rid))
    conn.execute(
        "UPDATE human_requests SET flow_request_id = id, flow = 1 WHERE source = 'flow_webhook'"
    )
    conn.execute("UPDATE human_requests SET flow = 1 WHERE emit_json NOT IN ('', '[]')")
    conn.execute("CREATE INDEX human_requests_kickoff ON human_requests(kickoff_id)")
    conn.execute("CREATE INDEX human_requests_run ON human_requests(local_id)")
    conn.execute(
        "CREATE UNIQUE INDEX human_requests_flow_id ON human_requests(flow_request_id)"
        " WHERE flow_request_id IS NOT NULL"
    )


def _v4_kickoff_accounting(conn: sqlite3.Connection) -> None:
    # Kickoff accounting (issue 12): who is sending a row (`owner`, a lease id of
    # crewdash.core.runs.lease), when its request last went on the wire (`sent_at`, NULL while
    # nothing is on the wire), how many requests the row took (`attempts`); the operator's
    # actions on runs (adopt, resend, dismiss, automatic adoption), for the audit trail.
    conn.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
    conn.execute("ALTER TABLE runs ADD COLUMN sent_at REAL")
    conn.execute("ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE INDEX runs_phase ON runs(phase)")
    conn.execute(
        """
        CREATE TABLE run_actions (
            id       INTEGER PRIMARY KEY AUTOINCREMENT,
            local_id TEXT NOT NULL REFERENCES runs(local_id),
            at       REAL NOT NULL,
            user     TEXT NOT NULL,
            action   TEXT NOT NULL,
            detail   TEXT NOT NULL DEFAULT ''
        )
        """
    )
    conn.execute("CREATE INDEX run_actions_run ON run_actions(local_id, id)")


def _answer_claims(conn: sqlite3.Connection) -> None:
    # One answer per request across the processes sharing this file: a process claims the
    # request (one row per request id) in the transaction that writes its decision, before it
    # sends; a second process finds the claim and is told who answered. A send that FAILED
    # drops its claim (the operator may try again); a claim of a process that died mid-send is
    # taken over. Self-contained (its own table): renumber freely.
    conn.execute(
        """
        CREATE TABLE answer_claims (
            request_id  TEXT PRIMARY KEY,
            decision_id INTEGER NOT NULL,
            host        TEXT NOT NULL,
            pid         INTEGER NOT NULL,
            at          REAL NOT NULL
        )
        """
    )


def _change_log(conn: sqlite3.Connection) -> None:
    # One live truth (issue 14): every process sharing this file learns what the others wrote
    # from one row per changed thing, numbered in commit order (AUTOINCREMENT never reuses a
    # number; SQLite has one writer at a time, so numbers become visible in order). Triggers
    # write it, so no write path can forget it; a thing changed again gets a new number and
    # loses its old row, so the log holds at most one row per run, request and watch.
    # Delete-then-insert rather than INSERT OR REPLACE: an outer `INSERT OR IGNORE` would
    # turn a trigger's REPLACE into IGNORE. Self-contained (its own table): renumber freely.
    conn.execute(
        "CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " kind TEXT NOT NULL, key TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX changes_key ON changes(kind, key)")
    for table, kind, key, events in (
        ("runs", "run", "local_id", ("INSERT", "UPDATE")),
        ("human_requests", "request", "id", ("INSERT", "UPDATE")),
        ("decisions", "request", "request_id", ("INSERT", "UPDATE")),
    ):
        for event in events:
            conn.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_logged AFTER {event} ON {table} BEGIN"
                f" DELETE FROM changes WHERE kind = '{kind}' AND key = NEW.{key};"
                f" INSERT INTO changes (kind, key) VALUES ('{kind}', NEW.{key}); END"
            )


def _run_watchers(conn: sqlite3.Connection) -> None:
    # Which live process polls a run (issue 14): one row per run, `owner` a lease id of
    # crewdash.core.runs.lease; a row whose owner is dead is taken over. Its changes go to the
    # change log too, so a process following a run hears at once when its watcher lets go.
    # Self-contained (its own table, after `changes`): renumber freely.
    conn.execute(
        "CREATE TABLE run_watchers (local_id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
        " since REAL NOT NULL)"
    )
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        conn.execute(
            f"CREATE TRIGGER run_watchers_{event.lower()}_logged AFTER {event} ON run_watchers"
            f" BEGIN DELETE FROM changes WHERE kind = 'watch' AND key = {row}.local_id;"
            f" INSERT INTO changes (kind, key) VALUES ('watch', {row}.local_id); END"
        )


def _audit_who(conn: sqlite3.Connection) -> None:
    # The audit trail says who (user and host), through which channel and what the server
    # answered (issue 14): `channel` is "dashboard", "cli:<command>", "webhook" (see
    # crewdash.core.audit). A decision's `channel` already names its answer's route (resume,
    # callback, observed), so its operator channel is `origin`. Rows written before stay NULL.
    # Indexes on `at`: the audit lists newest first a page at a time. Self-contained (two
    # tables of v1/v4, no other migration's objects): renumber freely.
    for name in ("host", "channel", "server_answer"):
        conn.execute(f"ALTER TABLE run_actions ADD COLUMN {name} TEXT")
    for name in ("host", "origin"):
        conn.execute(f"ALTER TABLE decisions ADD COLUMN {name} TEXT")
    conn.execute("CREATE INDEX run_actions_at ON run_actions(at, id)")
    conn.execute("CREATE INDEX decisions_at ON decisions(at, id)")


def _run_events(conn: sqlite3.Connection) -> None:
    # A run's event stream (issue 14): the step, task and crew webhooks received for it,
    # redacted, at most crewdash.core.runs.run_events.KEEP_PER_RUN per run (trimmed in the
    # transaction that adds one). An insert goes to the change log as kind 'events' (one row
    # per run), so every process showing the run hears of it. Self-contained: renumber freely.
    conn.execute(
        """
        CREATE TABLE run_events (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            local_id    TEXT NOT NULL REFERENCES runs(local_id),
            at          REAL NOT NULL,
            received_at REAL NOT NULL,
            kind        TEXT NOT NULL,
            summary     TEXT NOT NULL,
            raw_json    TEXT NOT NULL
        )
        """
    )
    conn.execute("CREATE INDEX run_events_run ON run_events(local_id, id)")
    conn.execute(
        "CREATE TRIGGER run_events_insert_logged AFTER INSERT ON run_events BEGIN"
        " DELETE FROM changes WHERE kind = 'events' AND key = NEW.local_id;"
        " INSERT INTO changes (kind, key) VALUES ('events', NEW.local_id); END"
    )


def _crew_hours(conn: sqlite3.Connection) -> None:
    # Per-crew trends (issue 14): hourly buckets of runs started and finished, and duration
    # and human-input wait histograms, kept by triggers and backfilled from the rows there
    # (crewdash.core.store.crew_hours_schema). Self-contained (its own tables): renumber freely.
    from crewdash.core.store.crew_hours_schema import create_crew_hours

    create_crew_hours(conn)


MIGRATIONS: tuple[Migration, ...] = (
    _v1_runs,
    _v2_batches,
    _v3_request_identity,
    _v4_kickoff_accounting,
    _answer_claims,  # v5
    _change_log,  # v6
    _run_watchers,  # v7
    _crew_hours,  # v8
    _audit_who,  # v9
    _run_events,  # v10
)
LATEST = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer crewdash: refuse rather than corrupt it."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _check_not_too_new(current: int) -> None:
    if current > LATEST:
        raise SchemaTooNewError(
            f"the run store is at schema version {current}, newer than this crewdash "
            f"understands ({LATEST}); upgrade crewdash or use another --data-dir"
        )


def migrate(conn: sqlite3.Connection, *, upto: int = LATEST) -> int:
    """Apply pending migrations up to `upto`; return the version reached.

    `conn` must be in autocommit mode (isolation_level=None): each step is its own transaction.
    """
    current = schema_version(conn)
    _check_not_too_new(current)
    for version in range(current + 1, upto + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock: read the
            # version again under it, so two processes opening a new store never both run
            # the same step ("table runs already exists").
            now_at = schema_version(conn)
            _check_not_too_new(now_at)
            if now_at >= version:
                conn.execute("COMMIT")
                continue
            MIGRATIONS[version - 1](conn)
            # PRAGMA takes no parameters; version is an int we computed.
            conn.execute(f"PRAGMA user_version = {int(version)}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return schema_version(conn)
