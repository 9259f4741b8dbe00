"""Loading the config file into values, and writing it back unchanged."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from crewdash.aop.models import Secret
from crewdash.core.config.load import (
    load_config,
    remove_crew,
    resolve_config_path,
    resolve_data_dir,
    save_crew,
    write_config,
)
from crewdash.core.config.model import Config, CrewConfig, CrewKind, TokenSource

FULL = """\
[crews.research]
url = "https://research-abc123.crewai.com"
token_env = "RESEARCH_CREW_TOKEN"
kind = "crew"
label = "Research desk"
poll_min = 1
poll_max = 20.5
connect_timeout = 3
read_timeout = 60

[crews.research.presets.quick]
topic = "AI agents"
budget = 5
tags = ["a", "b"]

[crews.onboarding]
url = "https://onboarding.example.com/base"
token_command = "pass show aop/onboarding"
kind = "flow"

[ui]
theme = "gruvbox"
bell = false
desktop_notify = false

[ui.keymap]
"app.quit" = "ctrl+q"

[receiver]
enabled = true
host = "127.0.0.1"
port = 9000
public_url = "https://tunnel.example.com"
bearer_token_env = "CREWDASH_RECEIVER_TOKEN"
flow_secret = "flow-secret-value-1234"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_every_section_is_read_into_values(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CREWDASH_RECEIVER_TOKEN", "receiver-bearer-abcdef")
    path = write(tmp_path, FULL)
    config = load_config(path)

    research = config.crews["research"]
    assert research.url == "https://research-abc123.crewai.com"
    assert research.token == TokenSource(env="RESEARCH_CREW_TOKEN")
    assert research.kind is CrewKind.CREW
    assert research.title == "Research desk"
    assert (research.poll_min, research.poll_max) == (1.0, 20.5)
    assert (research.connect_timeout, research.read_timeout) == (3.0, 60.0)
    assert research.presets == {"quick": {"topic": "AI agents", "budget": 5, "tags": ["a", "b"]}}
    assert research.source_file == path

    onboarding = config.crews["onboarding"]
    assert onboarding.kind is CrewKind.FLOW
    assert onboarding.token.command == "pass show aop/onboarding"
    assert onboarding.poll_max == 30.0  # default

    assert config.ui.theme == "gruvbox"
    assert (config.ui.bell, config.ui.desktop_notify) == (False, False)
    assert config.ui.keymap == {"app.quit": "ctrl+q"}

    receiver = config.receiver
    assert (receiver.enabled, receiver.host, receiver.port) == (True, "127.0.0.1", 9000)
    assert receiver.public_url == "https://tunnel.example.com"
    assert receiver.bearer_token == Secret("receiver-bearer-abcdef")
    assert receiver.bearer_token_env == "CREWDASH_RECEIVER_TOKEN"
    assert receiver.flow_secret == Secret("flow-secret-value-1234")
    assert config.warnings == ()


def test_a_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config == Config(path=tmp_path / "nope.toml")
    assert config.crews == {}


def test_an_inline_token_is_a_secret_and_never_in_a_repr(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[crews.a]\nurl = "https://a.example.com"\ntoken = "tok-abcdef-987654"\n'
    )
    crew = load_config(path).crews["a"]
    assert crew.token.inline == Secret("tok-abcdef-987654")
    assert "tok-abcdef" not in repr(load_config(path))
    assert "987654" not in crew.token.describe()


def test_write_config_of_a_loaded_file_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CREWDASH_RECEIVER_TOKEN", "receiver-bearer-abcdef")
    path = write(tmp_path, FULL.replace("# ", ""))
    before = load_config(path)
    write_config(path, before)
    after = load_config(path)
    assert after == before
    # The receiver's env-sourced token stays in the environment, not in the file.
    text = path.read_text()
    assert "receiver-bearer-abcdef" not in text
    assert 'bearer_token_env = "CREWDASH_RECEIVER_TOKEN"' in text
    assert "poll_min = 1\n" in text  # an unchanged value keeps its spelling


def test_save_crew_changes_only_that_crew(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(path)
    changed = dataclasses.replace(config.crews["research"], label="New label")
    save_crew(path, changed)
    after = load_config(path)
    assert after.crews["research"] == changed
    assert after.crews["onboarding"] == config.crews["onboarding"]
    assert after.ui == config.ui
    text = path.read_text()
    # the untouched tables come back key for key, in their order
    assert text.index("[crews.onboarding]") < text.index("[ui]") < text.index("[receiver]")
    assert 'flow_secret = "flow-secret-value-1234"' in text


def test_save_crew_replaces_the_token_source(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    crew = load_config(path).crews["research"]
    save_crew(path, dataclasses.replace(crew, token=TokenSource(command="op read x")))
    raw = path.read_text()
    assert 'token_command = "op read x"' in raw
    assert "RESEARCH_CREW_TOKEN" not in raw


def test_save_crew_creates_the_file_and_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "config.toml"
    crew = CrewConfig(name="new", url="https://n.example.com", token=TokenSource(env="N_TOKEN"))
    save_crew(path, crew)
    assert load_config(path).crews == {"new": crew}
    assert path.read_text() == (
        '[crews.new]\nurl = "https://n.example.com"\ntoken_env = "N_TOKEN"\nkind = "crew"\n'
    )


def test_remove_crew_keeps_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    before = load_config(path)
    remove_crew(path, "research")
    after = load_config(path)
    assert list(after.crews) == ["onboarding"]
    assert after.ui == before.ui and after.receiver.port == 9000


def test_resolve_config_path_precedence(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CREWDASH_CONFIG", str(tmp_path / "env.toml"))
    assert resolve_config_path(str(tmp_path / "cli.toml")) == tmp_path / "cli.toml"
    assert resolve_config_path(None) == tmp_path / "env.toml"
    monkeypatch.delenv("CREWDASH_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    default = resolve_config_path(None)
    assert default.name == "config.toml" and default.parent.name == "crewdash"
    if os.name == "posix":
        assert default == tmp_path / "xdg" / "crewdash" / "config.toml"


def test_resolve_data_dir_precedence(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CREWDASH_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(str(tmp_path / "cli")) == tmp_path / "cli"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("CREWDASH_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir(None).name == "crewdash"


@pytest.mark.parametrize(
    ("url", "warns"),
    [
        ("http://127.0.0.1:8000/crews/a", False),
        ("http://localhost:8000", False),
        ("http://[::1]:8000", False),
        ("https://crew.example.com", False),
        ("http://crew.example.com", True),
    ],
)
def test_plain_http_beyond_loopback_is_allowed_with_a_warning(
    tmp_path: Path, url: str, warns: bool
) -> None:
    path = write(tmp_path, f'[crews.a]\nurl = "{url}"\ntoken_env = "T"\n')
    config = load_config(path)
    assert config.crews["a"].url == url
    assert bool(config.warnings) is warns
    if warns:
        (warning,) = config.warnings
        assert "unencrypted" in warning and "[crews.a]" in warning and '"url"' in warning
        assert "line 2" in warning


def test_warnings_are_logged_but_never_the_token(tmp_path: Path, caplog) -> None:
    caplog.set_level("DEBUG", logger="crewdash")
    path = write(
        tmp_path, '[crews.a]\nurl = "http://crew.example.com"\ntoken = "tok-LOGGED-999999"\n'
    )
    path.chmod(0o644)
    config = load_config(path)
    assert len(config.warnings) == 2
    for warning in config.warnings:
        assert warning in caplog.text
    assert "tok-LOGGED" not in caplog.text
