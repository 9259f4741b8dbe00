"""The pieces of `crewdash serve`'s access control that need no server: loopback names, the
shape of a token from the environment, the address shown once."""

from __future__ import annotations

import pytest

from crewdash.commands.serve import ServeError, access_token, check_options, listening_words
from crewdash.tui.web.auth import TOKEN_ENV, check_token, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"])
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.4", "example.com", ""])
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_a_token_must_be_long_and_url_safe() -> None:
    assert check_token("a" * 16) == "a" * 16
    for bad in ("short", "x" * 15, "has space in it 123", "semi;colon;0123456789", "é" * 20):
        with pytest.raises(ValueError, match="16 to 256"):
            check_token(bad)


def test_beyond_loopback_a_token_is_made_up_and_the_variable_leaves_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert access_token("127.0.0.1") == (None, False)
    made, made_up = access_token("0.0.0.0")
    assert made_up and made is not None and len(made) >= 32
    assert access_token("0.0.0.0")[0] != made  # a new one each start
    monkeypatch.setenv(TOKEN_ENV, "given-token-0123456789")
    assert access_token("127.0.0.1") == ("given-token-0123456789", False)
    assert TOKEN_ENV not in os.environ  # the visitors' dashboards do not inherit it
    monkeypatch.setenv(TOKEN_ENV, "bad token")
    with pytest.raises(ServeError, match="16 to 256"):
        access_token("0.0.0.0")


def test_options_are_checked() -> None:
    check_options("127.0.0.1", 8000, "https://dash.example.com")
    for host, port, url in (("", 1, None), ("h", -1, None), ("h", 1, "dash.example.com")):
        with pytest.raises(ServeError):
            check_options(host, port, url)


def test_the_token_is_in_the_address_shown_once() -> None:
    words = listening_words([("0.0.0.0", 8123)], "https://dash.example.com/", "tok" * 8, True)
    assert "listening on 0.0.0.0:8123 (actions allowed)" in words
    assert f"open https://dash.example.com/?token={'tok' * 8}" in words
    plain = listening_words([("127.0.0.1", 8000)], None, None, False)
    assert "open http://127.0.0.1:8000/" in plain and "read-only" in plain
