"""`crewdash crews ...` end to end: the real command line, a real config file, and for
`crews test` the simulator over loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crewdash.cli import main
from crewdash.core.config import load_config

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
