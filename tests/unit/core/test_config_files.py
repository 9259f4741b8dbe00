"""Writing the config file: private when it holds a token, atomic under a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crewdash.aop.models import Secret
from crewdash.core.config.load import ConfigError, load_config, remove_crew, save_crew
from crewdash.core.config.model import CrewConfig, TokenSource
from crewdash.core.store import atomic

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

TOKEN = "tok-inline-Secret-77"
ENV_CREW = CrewConfig(name="env", url="https://e.example.com", token=TokenSource(env="E_TOKEN"))
INLINE_CREW = CrewConfig(
    name="inline", url="https://i.example.com", token=TokenSource(inline=Secret(TOKEN))
)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_an_inline_token_makes_the_file_0600(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_crew(path, ENV_CREW)
    path.chmod(0o644)
    save_crew(path, INLINE_CREW)
    assert mode(path) == 0o600
    assert load_config(path).warnings == ()


def test_without_inline_token_the_files_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_crew(path, ENV_CREW)
    path.chmod(0o640)
    save_crew(path, ENV_CREW.__class__(name="b", url="https://b.c", token=TokenSource(env="B")))
    assert mode(path) == 0o640


def test_a_readable_file_holding_a_token_gives_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_crew(path, INLINE_CREW)
    path.chmod(0o644)
    config = load_config(path)  # not fatal
    assert config.crews["inline"].token.inline == Secret(TOKEN)
    (warning,) = config.warnings
    assert "readable by other users" in warning and f"chmod 600 {path}" in warning
    assert TOKEN not in warning


def test_a_symlinked_config_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "crewdash.toml"
    save_crew(real, ENV_CREW)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_crew(link, INLINE_CREW)
    assert link.is_symlink()
    assert set(load_config(real).crews) == {"env", "inline"}


def test_a_failure_between_write_and_rename_leaves_the_old_file(
    tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "config.toml"
    save_crew(path, ENV_CREW)
    before = path.read_bytes()

    def boom(tmp: Path) -> None:
        assert tmp.read_bytes() != before  # the new content is fully written...
        raise OSError("disk went away")  # ...and then the process fails

    monkeypatch.setattr(atomic, "before_replace", boom)
    with pytest.raises(OSError, match="disk went away"):
        save_crew(path, INLINE_CREW)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".config.toml.lock", "config.toml"]


def test_sigkill_mid_write_leaves_the_old_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_crew(path, ENV_CREW)
    before = path.read_bytes()
    child = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from crewdash.aop.models import Secret
        from crewdash.core.store import atomic
        from crewdash.core.config.load import save_crew
        from crewdash.core.config.model import CrewConfig, TokenSource

        def stop_here(tmp):
            print("WRITTEN", tmp, flush=True)
            sys.stdin.readline()  # blocks until the parent kills us

        atomic.before_replace = stop_here
        save_crew(Path({str(path)!r}), CrewConfig(
            name="inline", url="https://i.example.com", token=TokenSource(inline=Secret("x" * 20))
        ))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("WRITTEN"), line
        tmp = Path(line.split(" ", 1)[1].strip())
        assert tmp.exists() and mode(tmp) == 0o600  # the half-done file is private too
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    assert path.read_bytes() == before
    assert set(load_config(path).crews) == {"env"}  # the leftover temp file is ignored
    save_crew(path, INLINE_CREW)  # and the next write works
    assert set(load_config(path).crews) == {"env", "inline"}


def test_save_refuses_to_write_what_it_could_not_read_back(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_crew(path, ENV_CREW)
    before = path.read_bytes()
    bad = CrewConfig(name="bad", url="ftp://x", token=TokenSource(env="X"))
    with pytest.raises(ConfigError, match="must start with https://"):
        save_crew(path, bad)
    assert path.read_bytes() == before


def test_save_refuses_a_bad_crew_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a valid crew name"):
        save_crew(
            tmp_path / "c.toml", CrewConfig(name="a b", url="https://x", token=TokenSource(env="X"))
        )


def test_remove_an_unknown_crew(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_crew(path, ENV_CREW)
    with pytest.raises(ConfigError) as caught:
        remove_crew(path, "nope")
    assert "no crew named 'nope'" in str(caught.value) and "env" in str(caught.value)
    assert caught.value.table == "crews.nope"


def test_saving_into_a_file_with_a_syntax_error_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[crews\n")
    with pytest.raises(ConfigError, match="line 1"):
        save_crew(path, ENV_CREW)
    assert path.read_text() == "[crews\n"
