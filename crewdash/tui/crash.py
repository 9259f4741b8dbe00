"""A crash report: what an unexpected error leaves behind instead of a traceback on the
operator's terminal. Written under the data directory, scrubbed of every token the process
held; the command that ran the dashboard prints its path and exits 70 (EX_SOFTWARE)."""

from __future__ import annotations

from pathlib import Path

CRASH_EXIT_CODE = 70


def write_crash_report(data_dir: Path | None, error: BaseException) -> Path:
    """Write the report and return its path (the temp dir when the data dir is unusable)."""
    # imported here, when it is needed: none of it may cost the dashboard's start-up
    import os
    import platform
    import sys
    import tempfile
    import time
    import traceback

    from crewdash.aop.redact import scrub_known

    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = f"crash-{stamp}-{os.getpid()}.txt"
    text = scrub_known(
        "crewdash stopped on an unexpected error.\n"
        f"time (UTC): {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())}\n"
        f"python: {sys.version.split()[0]} on {platform.platform()}\n"
        f"textual: {_version('textual')}  crewdash: {_version('crewdash')}\n\n"
        + "".join(traceback.format_exception(error))
    )
    for folder in (data_dir / "crashes" if data_dir else None, Path(tempfile.gettempdir())):
        if folder is None:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    raise OSError("no folder to write the crash report to")


def crash_line(path: Path) -> str:
    return (
        "crewdash stopped on an unexpected error; nothing was lost (every run is in the store). "
        f"The report is in {path}"
    )


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"
