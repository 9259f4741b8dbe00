"""Every config error names the file, the table, the key (and the line when it can), in words
an operator can act on; none of them repeats a token."""

from __future__ import annotations

from pathlib import Path

import pytest

from crewdash.core.config.load import ConfigError, load_config

GOOD_CREW = '[crews.research]\nurl = "https://r.example.com"\ntoken_env = "R_TOKEN"\n'


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert str(path) in str(error)
    assert error.file == path
    return error


# (toml text, table, key, line, words the message must contain)
CASES = [
    pytest.param(
        GOOD_CREW + 'tokn_env = "X"\n',
        "crews.research",
        "tokn_env",
        4,
        ["unknown key", 'Did you mean "token_env"?'],
        id="unknown-crew-key",
    ),
    pytest.param(
        "[uii]\ntheme = 'x'\n",
        None,
        "uii",
        None,
        ["unknown key", 'Did you mean "ui"?'],
        id="unknown-top-table",
    ),
    pytest.param(
        "[ui]\nthem = 'x'\n", "ui", "them", 2, ['Did you mean "theme"?'], id="unknown-ui-key"
    ),
    pytest.param(
        "[receiver]\nportt = 1\n",
        "receiver",
        "portt",
        2,
        ['Did you mean "port"?'],
        id="unknown-receiver-key",
    ),
    pytest.param(
        GOOD_CREW + 'poll_min = "5"\n',
        "crews.research",
        "poll_min",
        4,
        ["expected a number of seconds", "found text"],
        id="seconds-as-text",
    ),
    pytest.param(
        GOOD_CREW + "read_timeout = 0\n",
        "crews.research",
        "read_timeout",
        4,
        ["more than 0 seconds"],
        id="zero-timeout",
    ),
    pytest.param(
        GOOD_CREW + "poll_min = 10\npoll_max = 2\n",
        "crews.research",
        "poll_min",
        4,
        ["poll_min (10 s) is larger than poll_max (2 s)"],
        id="poll-bounds",
    ),
    pytest.param(
        GOOD_CREW + "label = 5\n",
        "crews.research",
        "label",
        4,
        ["expected text in quotes", "found a whole number"],
        id="label-type",
    ),
    pytest.param(
        GOOD_CREW + 'kind = "team"\n',
        "crews.research",
        "kind",
        4,
        ['"crew" or "flow"'],
        id="bad-kind",
    ),
    pytest.param(
        "[ui]\nbell = 'yes'\n", "ui", "bell", 2, ["expected true or false"], id="bool-type"
    ),
    pytest.param(
        "[ui.keymap]\nquit = 5\n", "ui.keymap", "quit", 2, ["expected text"], id="keymap-type"
    ),
    pytest.param(
        "[receiver]\nport = 70000\n",
        "receiver",
        "port",
        2,
        ["between 1 and 65535"],
        id="port-range",
    ),
    pytest.param(
        "[receiver]\nport = '80'\n",
        "receiver",
        "port",
        2,
        ["expected a whole number"],
        id="port-type",
    ),
    pytest.param("crews = 5\n", None, "crews", 1, ["expected a table"], id="crews-not-a-table"),
    pytest.param(
        GOOD_CREW.replace("https://r.example.com", "ftp://r.example.com"),
        "crews.research",
        "url",
        2,
        ["must start with https://", '"ftp"'],
        id="url-scheme",
    ),
    pytest.param(
        GOOD_CREW.replace("https://r.example.com", "r.example.com"),
        "crews.research",
        "url",
        2,
        ["must start with https://", "none"],
        id="url-no-scheme",
    ),
    pytest.param(
        GOOD_CREW.replace("https://r.example.com", "https://"),
        "crews.research",
        "url",
        2,
        ["no host name"],
        id="url-no-host",
    ),
    pytest.param(
        GOOD_CREW.replace("https://r.example.com", "https://r.example.com:port"),
        "crews.research",
        "url",
        2,
        ["not a valid URL"],
        id="url-bad-port",
    ),
    pytest.param(
        "[receiver]\npublic_url = 'tunnel.example.com'\n",
        "receiver",
        "public_url",
        2,
        ["must start with https://"],
        id="public-url",
    ),
    pytest.param(
        '[crews.research]\ntoken_env = "R"\n',
        "crews.research",
        None,
        1,
        ["has no url"],
        id="missing-url",
    ),
    pytest.param(
        '[crews.research]\nurl = "https://r.example.com"\n',
        "crews.research",
        None,
        1,
        ["missing token source", "token_env", "token_command", "token"],
        id="missing-token-source",
    ),
    pytest.param(
        GOOD_CREW + 'token_command = "pass show x"\n',
        "crews.research",
        "token_command",
        4,
        ["two token sources (token_env and token_command)", "keep exactly one"],
        id="two-token-sources",
    ),
    pytest.param(
        '[crews.research]\nurl = "https://r.example.com"\ntoken = ""\n',
        "crews.research",
        "token",
        3,
        ["must not be empty"],
        id="empty-inline-token",
    ),
    pytest.param(
        '[crews.research]\nurl = "https://r.example.com"\ntoken_command = "pass \'x"\n',
        "crews.research",
        "token_command",
        3,
        ["cannot be split", "quotes"],
        id="unbalanced-command",
    ),
    pytest.param(
        "[receiver]\nbearer_token = 'a'\nbearer_token_env = 'B'\n",
        "receiver",
        "bearer_token_env",
        3,
        ["two sources"],
        id="receiver-two-sources",
    ),
    pytest.param(
        '[crews."bad name"]\nurl = "https://r.example.com"\ntoken_env = "R"\n',
        "crews.bad name",
        None,
        1,
        ["not a valid crew name"],
        id="crew-name",
    ),
    pytest.param(
        "[crews.research.presets]\nquick = 5\n",
        "crews.research.presets",
        "quick",
        2,
        ["a preset is a table"],
        id="preset-type",
    ),
]


@pytest.mark.parametrize(("text", "table", "key", "line", "words"), CASES)
def test_error_names_file_table_key_and_line(
    tmp_path: Path, text: str, table: str | None, key: str | None, line: int | None, words
) -> None:
    if "presets]" in text:
        text = GOOD_CREW + "\n" + text
        line = 6
    error = load_error(tmp_path, text)
    assert (error.table, error.key, error.line) == (table, key, line)
    message = str(error)
    if table:
        assert f"table [{table}]" in message
    if key:
        assert f'key "{key}"' in message
    if line:
        assert f"line {line}" in message
    for word in words:
        assert word in message


def test_syntax_error_names_the_line_and_column(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD_CREW + 'label = "unterminated\n')
    assert error.line == 4
    assert "line 4" in str(error) and "TOML syntax error" in str(error)
    assert "column" in str(error)


def test_syntax_error_at_the_end_of_the_file(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD_CREW + "[ui")
    assert "TOML syntax error" in str(error)
    assert error.line == 4


def test_a_syntax_error_on_a_token_line_does_not_repeat_the_token(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[crews.a]\nurl = "https://a.b"\ntoken = "tok-SECRET-1234\n')
    assert "tok-SECRET" not in str(error)
    assert error.line == 3


def test_a_token_pasted_as_env_name_is_not_echoed(tmp_path: Path) -> None:
    text = '[crews.a]\nurl = "https://a.b"\ntoken_env = "sk-live-SECRET-42"\n'
    error = load_error(tmp_path, text)
    assert "sk-live-SECRET-42" not in str(error)
    assert "Did you paste the token itself?" in str(error)
    assert error.key == "token_env"


def test_a_url_with_credentials_is_refused_without_echoing_them(tmp_path: Path) -> None:
    text = '[crews.a]\nurl = "https://user:hunter2-pass@a.example.com"\ntoken_env = "T"\n'
    error = load_error(tmp_path, text)
    assert "hunter2" not in str(error)
    assert "user name or password" in str(error)


def test_wrong_type_of_inline_token_does_not_show_the_value(tmp_path: Path) -> None:
    error = load_error(tmp_path, '[crews.a]\nurl = "https://a.b"\ntoken = 123456789\n')
    assert "123456789" not in str(error)
    assert "found a whole number" in str(error)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[ui]\ntheme = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8") as caught:
        load_config(path)
    assert caught.value.line == 2


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="directory"):
        load_config(tmp_path)
