"""The config file: load it, and change it safely.

`load_config` reads the TOML file into `Config` values (`ConfigError` names file, table, key
and line). `save_crew`, `remove_crew` and `write_config` rewrite it atomically under a lock,
changing only what they were asked to; a file that holds a token itself is kept at mode 0600.
Comments are not preserved by a rewrite (tomli-w writes plain TOML).
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from crewdash.core.config.errors import ConfigError
from crewdash.core.config.model import Config, CrewConfig
from crewdash.core.config.parse import (
    crew_name_problem,
    parse_config,
    url_problem,
    url_warning,
)
from crewdash.core.config.paths import resolve_config_path, resolve_data_dir
from crewdash.core.config.tokens import resolve_token
from crewdash.core.config.write import crew_table, has_inline_secret, receiver_table, ui_table
from crewdash.core.store.atomic import locked, write_atomic

__all__ = [
    "ConfigError",
    "crew_name_problem",
    "load_config",
    "remove_crew",
    "resolve_config_path",
    "resolve_data_dir",
    "resolve_token",
    "save_crew",
    "url_problem",
    "url_warning",
    "write_config",
]

logger = logging.getLogger(__name__)

PRIVATE_MODE = 0o600


def load_config(path: Path | None = None) -> Config:
    """The config at `path` (default: `resolve_config_path(None)`). A missing file is an
    empty config; findings that are not fatal are in `Config.warnings` (and logged)."""
    path = path if path is not None else resolve_config_path(None)
    raw, text = _read_raw(path)
    if raw is None:
        return Config(path=path)
    config = parse_config(raw, file=path, text=text)
    warnings = list(config.warnings)
    if has_inline_secret(raw):
        warning = _readable_warning(path)
        if warning:
            warnings.append(warning)
    for warning in warnings:
        logger.info("%s", warning)
    if len(warnings) == len(config.warnings):
        return config
    return Config(
        path=config.path,
        crews=config.crews,
        ui=config.ui,
        receiver=config.receiver,
        warnings=tuple(warnings),
    )


def save_crew(path: Path, crew: CrewConfig) -> None:
    """Add or replace `[crews.<name>]`, keeping every other key and table as it is."""
    problem = crew_name_problem(crew.name)
    if problem:
        raise ConfigError(problem, file=path, table=f"crews.{crew.name}")
    with locked(path):
        raw, _ = _read_raw(path)
        raw = raw or {}
        crews = dict(raw.get("crews") or {})
        crews[crew.name] = crew_table(crew, crews.get(crew.name))
        raw["crews"] = crews
        _write_raw(path, raw)


def remove_crew(path: Path, name: str) -> None:
    """Delete `[crews.<name>]`; ConfigError if there is no such crew."""
    with locked(path):
        raw, _ = _read_raw(path)
        crews = dict((raw or {}).get("crews") or {})
        if raw is None or name not in crews:
            known = ", ".join(sorted(crews)) or "none"
            raise ConfigError(
                f"there is no crew named {name!r} (crews in the file: {known}).",
                file=path,
                table=f"crews.{name}",
            )
        del crews[name]
        raw["crews"] = crews
        _write_raw(path, raw)


def write_config(path: Path, config: Config) -> None:
    """Write all of `config` to `path`, merged into what the file holds (unchanged keys keep
    their spelling and order; crews not in `config` are removed)."""
    with locked(path):
        raw, _ = _read_raw(path)
        raw = raw or {}
        old_crews = raw.get("crews") or {}
        if config.crews or "crews" in raw:
            raw["crews"] = {
                name: crew_table(crew, old_crews.get(name)) for name, crew in config.crews.items()
            }
        for key, table in (
            ("ui", ui_table(config.ui, raw.get("ui"))),
            ("receiver", receiver_table(config.receiver, raw.get("receiver"))),
        ):
            if table or key in raw:
                raw[key] = table
        _write_raw(path, raw)


# -- file access --------------------------------------------------------------------------


def _read_raw(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The decoded document and its text; (None, "") when the file does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, ""
    except IsADirectoryError:
        raise ConfigError("this is a directory, not a file.", file=path) from None
    except PermissionError:
        raise ConfigError(
            "cannot read it: permission denied (check its owner and mode).", file=path
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError("the file is not UTF-8 text.", file=path, line=line) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, exc, text) from None


_POSITION_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _syntax_error(path: Path, exc: tomllib.TOMLDecodeError, text: str) -> ConfigError:
    # tomllib's messages name a position and a reason, never the text itself.
    message = str(exc)
    line: int | None = getattr(exc, "lineno", None)
    column: int | None = getattr(exc, "colno", None)
    match = _POSITION_RE.search(message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = message[: match.start()]
    elif message.endswith("(at end of document)"):
        message = message.removesuffix("(at end of document)").strip() + " at the end of the file"
        line = max(1, len(text.splitlines()))
    where = f" (column {column})" if column else ""
    return ConfigError(
        f"TOML syntax error: {message}{where}. Check the quotes, brackets and '=' there.",
        file=path,
        line=line,
    )


def _write_raw(path: Path, raw: dict[str, Any]) -> None:
    # Never write what we could not read back.
    parse_config(raw, file=path)
    write_atomic(path, tomli_w.dumps(raw).encode("utf-8"), mode=_mode_for(path, raw))


def _mode_for(path: Path, raw: dict[str, Any]) -> int:
    if has_inline_secret(raw):
        return PRIVATE_MODE
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o644 & ~umask


def _readable_warning(path: Path) -> str | None:
    if os.name != "posix":
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"config file {path} holds a token and is readable by other users "
        f"(mode {mode:o}); run: chmod 600 {path}"
    )
