"""`crewdash crews ...` end to end: the real command line, a real config file, and for
`crews test` the simulator over loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from crewdash.cli import main
from crewdash.core.config.load import load_config

TOKEN = "tok-stdin-NeverShown-31337"


@pytest.fixture
def config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cfg" / "config.toml"
    monkeypatch.setenv("CREWDASH_CONFIG", str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_remove(config_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("R_TOKEN", raising=False)
    code, out, err = run(
        capsys, "crews", "add", "research", "--url", "https://r.example.com",
        "--token-env", "R_TOKEN", "--label", "Research desk",
    )  # fmt: skip
    assert code == 0
    assert "added crew 'research'" in out and "env $R_TOKEN" in out
    assert "$R_TOKEN is not set in this shell" in err

    code, out, err = run(
        capsys, "crews", "add", "onboarding", "--url", "https://o.example.com",
        "--token-command", "pass show aop/onboarding", "--kind", "flow",
    )  # fmt: skip
    assert code == 0

    code, out, _ = run(capsys, "crews", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "URL", "TOKEN", "LABEL"]
    assert lines[1].split()[:4] == ["research", "crew", "https://r.example.com", "env"]
    assert "Research desk" in lines[1]
    assert "command `pass show aop/onboarding`" in lines[2] and " flow " in lines[2]

    code, out, _ = run(capsys, "crews", "remove", "research")
    assert code == 0 and "removed crew 'research'" in out
    assert list(load_config(config_path).crews) == ["onboarding"]


def test_list_json_is_one_object_per_crew(config_path: Path, capsys) -> None:
    run(capsys, "crews", "add", "a", "--url", "https://a.example.com", "--token-env", "A")
    run(capsys, "crews", "add", "b", "--url", "https://b.example.com", "--token-env", "B")
    code, out, _ = run(capsys, "--config", str(config_path), "crews", "list", "--json")
    assert code == 0
    objects = [json.loads(line) for line in out.splitlines()]
    assert [o["name"] for o in objects] == ["a", "b"]
    assert objects[0]["token_source"] == "env $A" and objects[0]["type"] == "crew"


def test_token_stdin_is_stored_privately_and_never_shown(
    config_path: Path, capsys, monkeypatch, caplog
) -> None:
    caplog.set_level("DEBUG")
    monkeypatch.setattr("sys.stdin", _Stdin(TOKEN + "\n"))
    code, out, err = run(
        capsys, "crews", "add", "private", "--url", "https://p.example.com", "--token-stdin"
    )
    assert code == 0
    assert config_path.stat().st_mode & 0o777 == 0o600
    assert f'token = "{TOKEN}"' in config_path.read_text()
    _, list_out, list_err = run(capsys, "crews", "list")
    _, json_out, json_err = run(capsys, "crews", "list", "--json")
    assert "in file (****" in list_out
    for text in (out, err, list_out, list_err, json_out, json_err, caplog.text):
        assert TOKEN not in text


def test_add_refuses_a_duplicate_without_replace(config_path: Path, capsys) -> None:
    run(capsys, "crews", "add", "a", "--url", "https://a.example.com", "--token-env", "A")
    code, _, err = run(
        capsys, "crews", "add", "a", "--url", "https://x.example.com", "--token-env", "X"
    )
    assert code == 2 and "already exists" in err and "--replace" in err
    code, _, _ = run(
        capsys,
        "crews",
        "add",
        "a",
        "--url",
        "https://x.example.com",
        "--token-env",
        "X",
        "--replace",
    )
    assert code == 0
    assert load_config(config_path).crews["a"].url == "https://x.example.com"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--url", "ftp://x", "--token-env", "A"], "must start with https://"),
        (["--url", "https://x.example.com", "--token-env", "not a var"], "not an environment"),
    ],
)
def test_add_reports_bad_values(config_path: Path, capsys, argv: list[str], words: str) -> None:
    code, _, err = run(capsys, "crews", "add", "a", *argv)
    assert code == 2 and words in err
    assert not config_path.exists()


def test_a_broken_config_is_reported_with_file_and_line(config_path: Path, capsys) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text('[crews.a]\nurl = "https://a.b"\ntokenenv = "A"\n')
    code, _, err = run(capsys, "crews", "list")
    assert code == 2
    assert f'config file {config_path}, line 3, table [crews.a], key "tokenenv"' in err
    assert 'Did you mean "token_env"?' in err


def test_remove_unknown(config_path: Path, capsys) -> None:
    code, _, err = run(capsys, "crews", "remove", "ghost")
    assert code == 2 and "no crew named 'ghost'" in err


def test_test_without_crews(config_path: Path, capsys) -> None:
    code, _, err = run(capsys, "crews", "test")
    assert code == 2 and "no crews configured" in err


class _Stdin:
    def __init__(self, text: str) -> None:
        self._text = text

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self._text


# -- crews test against the simulator ------------------------------------------------------


def _healthy(sim_server) -> list:
    """Crews of the scenario that answer normally (no faults, not offline)."""
    from crewdash.sim.scenario import FaultSpec

    found = [
        spec
        for spec in sim_server.app.scenario.crews
        if not spec.offline and spec.faults == FaultSpec()
    ]
    assert found, "the sim_server scenario has no fault-free crew"
    return found


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write(path: Path, tables: dict[str, dict[str, str]]) -> None:
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps({"crews": tables}))
    path.chmod(0o600)


async def _main(capsys, *argv: str) -> tuple[int, str, str]:
    # The command runs its own event loop (asyncio.run), so it runs in a thread here while
    # the simulator keeps serving on this test's loop.
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_every_verdict_against_the_simulator(
    sim_server, config_path: Path, capsys, monkeypatch
) -> None:
    good = _healthy(sim_server)[0]
    monkeypatch.setenv("GOOD_TOKEN", sim_server.token(good.name))
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    tables = {
        "good": {"url": sim_server.crew_url(good.name), "token_env": "GOOD_TOKEN"},
        "rejected": {"url": sim_server.crew_url(good.name), "token": "wrong-token-0000000"},
        "offline": {
            "url": f"http://127.0.0.1:{_closed_port()}",
            "token_env": "GOOD_TOKEN",
        },
        "bad": {"url": sim_server.url + "/no-such-crew", "token_env": "GOOD_TOKEN"},
        "notoken": {"url": sim_server.crew_url(good.name), "token_env": "UNSET_TOKEN"},
    }
    _write(config_path, tables)

    code, out, err = await _main(capsys, "crews", "test", "--json", "--slow", "60")
    verdicts = {o["crew"]: o for o in map(json.loads, out.splitlines())}
    assert {name: o["verdict"] for name, o in verdicts.items()} == {
        "good": "ok",
        "rejected": "token rejected",
        "offline": "offline",
        "bad": "bad response",
        "notoken": "no token",
    }
    assert code == 3  # a rejected token outranks the other failures
    assert verdicts["good"]["inputs"] == len(good.inputs)
    assert 0 < verdicts["good"]["latency_ms"] < 60_000
    assert verdicts["offline"]["latency_ms"] is None
    assert "$UNSET_TOKEN is not set" in verdicts["notoken"]["detail"]
    assert "4 of 5 crews failed" in err
    for text in (out, err):
        assert sim_server.token(good.name) not in text
        assert "wrong-token-0000000" not in text


async def test_one_named_crew_ok_and_slow(sim_server, config_path: Path, capsys) -> None:
    good = _healthy(sim_server)[0]
    _write(
        config_path,
        {
            "good": {"url": sim_server.crew_url(good.name), "token": sim_server.token(good.name)},
            "other": {"url": f"http://127.0.0.1:{_closed_port()}", "token_env": "X"},
        },
    )
    code, out, _ = await _main(capsys, "crews", "test", "good", "--slow", "60")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["CREW", "VERDICT", "LATENCY", "INPUTS", "DETAIL"]
    assert row.split()[:2] == ["good", "ok"] and " ms " in row
    assert str(len(good.inputs)) in row.split()

    code, out, _ = await _main(capsys, "crews", "test", "good", "--slow", "0.000001")
    assert code == 0  # slow is a warning, not a failure
    assert out.splitlines()[1].split()[:2] == ["good", "slow"]


async def test_every_configured_crew_of_the_scenario_passes(
    sim_server, config_path: Path, capsys
) -> None:
    healthy = _healthy(sim_server)
    _write(
        config_path,
        {
            spec.name: {"url": sim_server.crew_url(spec.name), "token": sim_server.token(spec.name)}
            for spec in healthy
        },
    )
    code, out, err = await _main(capsys, "crews", "test", "--json", "--slow", "60")
    assert code == 0, err
    objects = [json.loads(line) for line in out.splitlines()]
    assert sorted(o["crew"] for o in objects) == sorted(spec.name for spec in healthy)
    assert all(o["ok"] for o in objects)


def test_list_shows_each_crews_notification_rules(config_path: Path, capsys) -> None:
    run(capsys, "crews", "add", "a", "--url", "https://a.example.com", "--token-env", "A")
    run(capsys, "crews", "add", "b", "--url", "https://b.example.com", "--token-env", "B")
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(
        text.replace(
            "[crews.b]",
            '[crews.b.notify]\non = ["error", "human_input"]\nbell = true\n'
            'quiet_hours = "22:00-07:00"\n\n[crews.b]',
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "crews", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[1].startswith("a ") and lines[2].startswith("b ")
    assert lines[3] == "  notify: error, human_input · bell · quiet 22:00-07:00"
    assert len(lines) == 4  # a crew with the default rules gets no notify line
    code, out, _ = run(capsys, "crews", "list", "--json")
    objects = [json.loads(line) for line in out.splitlines()]
    assert objects[0]["notify"] == {
        "on": ["error", "human_input", "completed"],
        "bell": None,
        "desktop": None,
        "quiet_hours": None,
    }
    assert objects[1]["notify"] == {
        "on": ["error", "human_input"],
        "bell": True,
        "desktop": None,
        "quiet_hours": "22:00-07:00",
    }


def test_list_reports_a_bad_notify_rule_with_file_and_line(config_path: Path, capsys) -> None:
    run(capsys, "crews", "add", "a", "--url", "https://a.example.com", "--token-env", "A")
    with config_path.open("a", encoding="utf-8") as file:
        file.write('\n[crews.a.notify]\nquiet_hours = "late"\n')
    code, out, err = run(capsys, "crews", "list")
    assert code != 0 and out == ""
    assert str(config_path) in err and "[crews.a.notify]" in err and 'key "quiet_hours"' in err
    assert "expected HH:MM-HH:MM" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
