"""Resolving UNKNOWN kickoffs from the command line, against the simulator: `runs --phase`,
`adopt` (checked with a status call), `resend` (asks first, `--yes`), `dismiss`; each action
in the audit trail."""

from __future__ import annotations

import pytest
from cli_helpers import CliEnv

from crewdash.aop.errors import ProtocolError
from crewdash.core.models import KickoffPhase
from crewdash.core.runs.kickoff import META_KEY, start_run
from crewdash.core.store.database import RunStore, store_path


async def _unknown_kickoff(cli: CliEnv) -> dict:
    """A kickoff the simulator starts but answers with an unreadable body (over loopback,
    through the kickoff protocol; the CLI's own kickoff would first read /inputs)."""
    from crewdash.aop import AsyncCrewClient

    cli.server.app.configure("basic", faults={"bad_body_rate": 1.0})
    try:
        with RunStore.open(store_path(cli.data_dir)) as store:
            async with AsyncCrewClient(
                cli.server.crew_url("basic"), cli.server.token("basic")
            ) as client:
                with pytest.raises(ProtocolError):
                    await start_run(store, client, "basic", {"topic": "x"})
    finally:
        cli.server.app.configure("basic", faults={"bad_body_rate": 0.0})
    listed = await cli.run("runs", "--phase", "unknown", "--json")
    assert listed.code == 0
    return listed.records[0]


async def test_an_unreadable_kickoff_answer_is_unknown_and_can_be_adopted(cli: CliEnv) -> None:
    run = await _unknown_kickoff(cli)
    assert run["phase"] == "unknown" and run["kickoff_id"] is None
    assert run["error"].startswith("started, id unreadable") and run["attempts"] == 1
    assert run["finished_at"] is None
    [kickoff] = (await cli.sim_stats())["kickoffs"]  # the server did start it

    bogus = await cli.run("adopt", "basic", run["local_id"], "no-such-run", "--json")
    assert bogus.code == 2 and "does not know" in bogus.records[-1]["message"]

    adopted = await cli.run("adopt", "basic", run["local_id"][:8], kickoff["kickoff_id"], "--json")
    assert adopted.code == 0, adopted.err
    [record] = adopted.of_type("adopted")
    assert record["phase"] == "accepted" and record["kickoff_id"] == kickoff["kickoff_id"]
    assert record["error"] is None and record["state"] != "unknown"
    with RunStore.open(store_path(cli.data_dir)) as store:
        stored = store.get(run["local_id"])
        assert stored is not None and stored.phase is KickoffPhase.ACCEPTED
        assert stored.request_id == kickoff["meta"][META_KEY]
        [kicked, refused, action] = store.actions(run["local_id"])
        assert kicked["action"] == "kickoff" and kicked["detail"].startswith("unknown")
        assert refused["action"] == "adopt" and refused["server_answer"].startswith("HTTP 404")
        assert action["channel"] == "cli:adopt" and action["server_answer"].startswith("2xx")
        assert action["action"] == "adopt" and kickoff["kickoff_id"] in action["detail"]
        assert any("adopted" in (h.detail or "") for h in store.history(run["local_id"]))
    again = await cli.run("adopt", "basic", run["local_id"], kickoff["kickoff_id"])
    assert again.code == 2 and "not unknown" in again.err


async def test_resend_asks_first_and_dismiss_settles(cli: CliEnv) -> None:
    run = await _unknown_kickoff(cli)
    refused = await cli.run("resend", "basic", run["local_id"], "--json")
    assert refused.code == 2 and refused.records[-1]["kind"] == "needs_confirmation"
    assert "duplicate" in refused.records[-1]["message"]
    assert (await cli.sim_stats())["kickoffs_accepted"] == 1  # nothing sent

    resent = await cli.run("resend", "basic", run["local_id"], "--yes", "--json")
    assert resent.code == 0, resent.err
    [record] = resent.of_type("kickoff")
    assert record["local_id"] == run["local_id"] and record["phase"] == "accepted"
    assert record["attempts"] == 2
    stats = await cli.sim_stats()
    assert stats["kickoffs_accepted"] == 2  # the risk the operator accepted
    metas = {k["meta"][META_KEY] for k in stats["kickoffs"]}
    assert len(metas) == 2  # a fresh request id for the second request

    other = await _unknown_kickoff(cli)
    dismissed = await cli.run("dismiss", "basic", other["local_id"], "--reason", "checked")
    assert dismissed.code == 0, dismissed.err
    listed = await cli.run("runs", "--phase", "refused", "--json")
    [row] = listed.records
    assert row["local_id"] == other["local_id"] and "dismissed: checked" in row["error"]
    assert (await cli.run("runs", "--phase", "unknown", "--json")).out == ""
    with RunStore.open(store_path(cli.data_dir)) as store:
        actions = store.actions(run["local_id"])
        assert [a["action"] for a in actions] == ["kickoff", "resend", "kickoff"]
        # the lost kickoff went through this test's own store (no channel said)
        assert [a["channel"] for a in actions] == ["unknown", "cli:resend", "cli:resend"]
        assert [a["action"] for a in store.actions(other["local_id"])] == ["kickoff", "dismiss"]
