"""`crewdash.aop` exports its names lazily: the models do not pull in httpx."""

from __future__ import annotations

import subprocess
import sys

import pytest

import crewdash.aop as aop


def test_importing_the_models_does_not_import_httpx() -> None:
    code = "import sys, crewdash.aop.models; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_client_does_not_import_httpx_command_line_tool() -> None:
    # httpx would import click, rich and pygments for its CLI: ~0.3 s of every command's start
    code = (
        "import sys, crewdash.aop.client; "
        "print(sorted(m for m in ('click', 'rich', 'pygments') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_exported_name_resolves_and_unknown_names_raise() -> None:
    for name in aop.__all__:
        assert getattr(aop, name) is not None
    from crewdash.aop import AsyncCrewClient, calls  # a class and a submodule

    assert AsyncCrewClient.__module__ == "crewdash.aop.client"
    assert calls.__name__ == "crewdash.aop.calls"
    with pytest.raises(AttributeError):
        aop.NoSuchName  # noqa: B018


def test_the_config_and_the_core_models_do_not_build_the_api_records() -> None:
    code = (
        "import sys, crewdash.core.config.load, crewdash.core.models; "
        "print('crewdash.aop.records' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_record_is_still_imported_from_the_models() -> None:
    import crewdash.aop.models as models
    from crewdash.aop import records

    # what records defines: its classes, not the names it imports
    defined = [
        name
        for name, value in vars(records).items()
        if getattr(value, "__module__", None) == records.__name__
    ]
    for name in defined:
        assert getattr(models, name) is getattr(records, name)
        assert name in dir(models)
    from crewdash.aop.models import RunStatus, Webhooks

    assert RunStatus is records.RunStatus and Webhooks().as_body() == {}
    with pytest.raises(AttributeError):
        models.NoSuchName  # noqa: B018
