"""resolve_token: inline, environment, command; every failure named, the token never shown."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import pytest

from crewdash.aop.models import Secret
from crewdash.core.config.load import ConfigError, resolve_token
from crewdash.core.config.model import CrewConfig, TokenSource

TOKEN = "tok-SuperSecret-0042"
CONFIG = Path("/home/op/.config/crewdash/config.toml")


def crew(source: TokenSource) -> CrewConfig:
    return CrewConfig(
        name="research", url="https://r.example.com", token=source, source_file=CONFIG
    )


def py(code: str) -> str:
    """A token_command running Python (no shell is involved: shlex splits it)."""
    return f"{sys.executable} -c '{code}'"


def token_error(source: TokenSource, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        resolve_token(crew(source), **kwargs)
    error = caught.value
    assert str(CONFIG) in str(error) and "table [crews.research]" in str(error)
    rendered = "".join(traceback.format_exception(error))
    assert TOKEN not in rendered  # not in the message, nor in a chained exception
    return error


def test_inline_token() -> None:
    assert resolve_token(crew(TokenSource(inline=Secret(TOKEN)))) == Secret(TOKEN)


def test_env_token_is_stripped(monkeypatch) -> None:
    monkeypatch.setenv("R_TOKEN", f" {TOKEN}\n")
    assert resolve_token(crew(TokenSource(env="R_TOKEN"))).reveal() == TOKEN


def test_env_not_set(monkeypatch) -> None:
    monkeypatch.delenv("R_TOKEN", raising=False)
    error = token_error(TokenSource(env="R_TOKEN"))
    assert error.key == "token_env" and "$R_TOKEN is not set" in str(error)


def test_env_empty(monkeypatch) -> None:
    monkeypatch.setenv("R_TOKEN", "  ")
    error = token_error(TokenSource(env="R_TOKEN"))
    assert "set but empty" in str(error)


def test_command_first_line_is_the_token() -> None:
    source = TokenSource(command=py(f'print("{TOKEN}"); print("user: op")'))
    assert resolve_token(crew(source)) == Secret(TOKEN)


def test_command_runs_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    # With a shell, `; touch` would run; split into words it is just arguments to echo.
    source = TokenSource(command=f"echo {TOKEN} ; touch {marker}")
    assert resolve_token(crew(source)).reveal().startswith(TOKEN)
    assert not marker.exists()


def test_command_failure_shows_status_and_first_stderr_line_not_stdout() -> None:
    code = (
        f'import sys; print("{TOKEN}"); '
        'sys.stderr.write("\\nError: gpg: decryption failed\\nmore detail\\n"); sys.exit(3)'
    )
    error = token_error(TokenSource(command=py(code)))
    assert error.key == "token_command"
    assert "exit status 3" in str(error)
    assert "Error: gpg: decryption failed" in str(error)
    assert "more detail" not in str(error)


def test_command_echoing_the_token_on_stderr_is_masked() -> None:
    code = f'import sys; print("{TOKEN}"); sys.stderr.write("bad {TOKEN}\\n"); sys.exit(1)'
    error = token_error(TokenSource(command=py(code)))
    assert "bad ****" in str(error)


def test_command_with_empty_output() -> None:
    error = token_error(TokenSource(command=py("pass")))
    assert "printed no token" in str(error)


def test_command_not_found() -> None:
    error = token_error(TokenSource(command="no-such-program-crewdash --x"))
    assert "'no-such-program-crewdash' was not found" in str(error)


def test_command_timeout_does_not_leak_partial_output() -> None:
    code = f'import sys, time; print("{TOKEN}", flush=True); time.sleep(30)'
    error = token_error(TokenSource(command=py(code)), timeout=0.5)
    assert "did not finish within 0.5 seconds" in str(error)
    assert error.__cause__ is None and error.__suppress_context__


def test_no_token_source() -> None:
    error = token_error(TokenSource())
    assert "no token source" in str(error)


def test_tokens_never_reach_the_logs(monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("R_TOKEN", TOKEN)
    secret = resolve_token(crew(TokenSource(env="R_TOKEN")))
    logging.getLogger("crewdash").info("resolved %s / %r", secret, secret)
    token_error(TokenSource(command=py(f'import sys; print("{TOKEN}"); sys.exit(2)')))
    assert TOKEN not in caplog.text
    assert "****" in caplog.text
