"""`[crews.NAME.notify]`: parsed and validated with errors that name the file, table, key and
line; written back unchanged; what one event gets (on, bell, desktop, quiet hours); its line
for `crews list`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from crewdash.core.config.load import ConfigError, load_config, save_crew, write_config
from crewdash.core.config.model import DEFAULT_NOTIFY_ON, NotifyRules
from crewdash.core.config.notify import (
    Attention,
    as_json,
    attention,
    describe,
    in_quiet_hours,
    quiet_window,
)

CREW = '[crews.research]\nurl = "https://r.example.com"\ntoken_env = "R_TOKEN"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        CREW + "\n[crews.research.notify]\n"
        'on = ["error", "stalled", "error"]\nbell = false\ndesktop = true\n'
        'quiet_hours = "22:00-07:00"\n',
    )
    rules = load_config(path).crews["research"].notify
    assert rules == NotifyRules(("error", "stalled"), False, True, "22:00-07:00")


def test_without_a_notify_table_a_crew_notifies_as_before(tmp_path: Path) -> None:
    rules = load_config(write(tmp_path, CREW)).crews["research"].notify
    assert rules == NotifyRules()
    assert rules.on == DEFAULT_NOTIFY_ON == ("error", "human_input", "completed")
    assert rules.bell is None and rules.desktop is None  # as [ui] says


BAD = [
    ('on = ["errors"]\n', "on", ['unknown event "errors"', 'Did you mean "error"?']),
    ("on = [3]\n", "on", ["expected event names in quotes", "Events: error, human_input"]),
    ('on = "error"\n', "on", ["expected a list", "found text"]),
    ('bell = "yes"\n', "bell", ["expected true or false", "found text"]),
    ("desktop = 1\n", "desktop", ["expected true or false"]),
    ('quiet_hours = "10pm-7am"\n', "quiet_hours", ["expected HH:MM-HH:MM", '"22:00-07:00"']),
    ('quiet_hours = "24:00-07:00"\n', "quiet_hours", ["hours go from 00 to 23"]),
    ('quiet_hours = "07:00-07:00"\n', "quiet_hours", ["start and end at the same time"]),
    ("quiet_hours = 22\n", "quiet_hours", ["expected text in quotes"]),
    ("sound = true\n", "sound", ["unknown key", "Valid keys here: on, bell, desktop"]),
]


@pytest.mark.parametrize(("line", "key", "words"), BAD)
def test_a_bad_value_names_file_table_key_and_line(
    tmp_path: Path, line: str, key: str, words: list[str]
) -> None:
    path = write(tmp_path, CREW + "\n[crews.research.notify]\n" + line)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.file, error.table, error.key, error.line) == (
        path,
        "crews.research.notify",
        key,
        6,
    )
    message = str(error)
    assert str(path) in message and "line 6" in message
    assert "table [crews.research.notify]" in message and f'key "{key}"' in message
    for word in words:
        assert word in message


def test_notify_that_is_not_a_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, CREW + 'notify = "loud"\n'))
    assert "expected a table ([crews.research.notify] ...)" in str(caught.value)


def test_the_rules_round_trip_through_the_writer(tmp_path: Path) -> None:
    text = (
        CREW + "\n[crews.research.notify]\n"
        'on = ["human_input"]\nbell = false\nquiet_hours = "22:30-6:15"\n'
    )
    path = write(tmp_path, text)
    before = load_config(path)
    write_config(path, before)
    assert load_config(path) == before
    written = path.read_text()
    assert 'quiet_hours = "22:30-6:15"' in written  # as it was written
    assert "desktop" not in written  # not set: not written
    # changed rules are written, unset ones dropped
    crew = before.crews["research"]
    save_crew(path, dataclasses.replace(crew, notify=NotifyRules(on=("error",), desktop=False)))
    after = load_config(path)
    assert after.crews["research"].notify == NotifyRules(on=("error",), desktop=False)
    assert "bell" not in path.read_text() and "quiet_hours" not in path.read_text()


def test_a_new_table_holds_only_what_differs_and_defaults_write_none(tmp_path: Path) -> None:
    path = write(tmp_path, CREW)
    crew = load_config(path).crews["research"]
    save_crew(path, dataclasses.replace(crew, notify=NotifyRules(bell=True)))
    text = path.read_text()
    assert "[crews.research.notify]" in text and "bell = true" in text
    assert "on =" not in text  # the default `on` is not spelt out
    assert load_config(path).crews["research"].notify == NotifyRules(bell=True)
    save_crew(path, dataclasses.replace(crew, notify=NotifyRules()))
    assert "notify" not in path.read_text()  # all defaults: no table at all
    assert load_config(path).crews["research"].notify == NotifyRules()


def test_quiet_hours_windows() -> None:
    assert quiet_window("22:00-07:00") == (1320, 420)
    assert quiet_window(" 9:05 - 17:30 ") == (545, 1050)
    night = NotifyRules(quiet_hours="22:00-07:00")
    assert in_quiet_hours(night, 22 * 60) and in_quiet_hours(night, 3 * 60)
    assert not in_quiet_hours(night, 7 * 60) and not in_quiet_hours(night, 12 * 60)
    day = NotifyRules(quiet_hours="09:00-17:00")
    assert in_quiet_hours(day, 9 * 60) and not in_quiet_hours(day, 17 * 60)
    assert not in_quiet_hours(NotifyRules(), 0)


def test_what_an_event_gets() -> None:
    noon, night = 12 * 60, 23 * 60
    loud = NotifyRules(quiet_hours="22:00-07:00")
    assert attention(loud, "error", bell=True, desktop=True, minute_of_day=noon) == Attention(
        True, True, True
    )
    # during quiet hours: the toast only
    assert attention(loud, "error", bell=True, desktop=True, minute_of_day=night) == Attention(
        True, False, False
    )
    # an event `on` leaves out gets nothing; stalled is not on by default
    assert attention(loud, "stalled", bell=True, desktop=True, minute_of_day=noon) == Attention(
        False, False, False
    )
    # the crew's bell/desktop override [ui]'s
    mine = NotifyRules(bell=False, desktop=True)
    assert attention(mine, "completed", bell=True, desktop=False, minute_of_day=noon) == (
        Attention(True, False, True)
    )


def test_the_line_and_json_of_crews_list() -> None:
    rules = NotifyRules(("error", "human_input"), True, None, "22:00-07:00")
    assert describe(rules) == "error, human_input · bell · quiet 22:00-07:00"
    assert describe(NotifyRules()) == "error, human_input, completed"
    assert describe(NotifyRules((), False, False)) == "nothing · no bell · no desktop"
    assert as_json(rules) == {
        "on": ["error", "human_input"],
        "bell": True,
        "desktop": None,
        "quiet_hours": "22:00-07:00",
    }
