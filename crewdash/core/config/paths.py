"""Where crewdash keeps its files: the config file and the data directory.

Precedence for both: the command-line option, then the environment variable, then the
platform's per-user directory (platformdirs).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "crewdash"
CONFIG_ENV = "CREWDASH_CONFIG"
DATA_DIR_ENV = "CREWDASH_DATA_DIR"
CONFIG_FILE_NAME = "config.toml"


def resolve_config_path(cli_value: str | None) -> Path:
    """`--config PATH`, else `$CREWDASH_CONFIG`, else `<user config dir>/crewdash/config.toml`."""
    chosen = cli_value or os.environ.get(CONFIG_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILE_NAME


def resolve_data_dir(cli_value: str | None) -> Path:
    """`--data-dir DIR`, else `$CREWDASH_DATA_DIR`, else `<user data dir>/crewdash`."""
    chosen = cli_value or os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
