"""What `crewdash.tui.web.server` relies on in textual-serve, checked against the installed
version: an upgrade that changes any of it fails here, loudly, before a browser test has to
find out why no dashboard starts."""

from __future__ import annotations

import inspect
from importlib.metadata import version
from pathlib import Path

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from crewdash.tui.web.auth import Access
from crewdash.tui.web.server import DashboardServer


def test_the_pinned_minor_is_installed() -> None:
    assert version("textual-serve").startswith("1.1."), "re-check crewdash/tui/web/server.py"


async def test_make_app_builds_the_routes_crewdash_guards() -> None:
    assert inspect.iscoroutinefunction(Server._make_app)
    server = DashboardServer(
        "exec true", host="127.0.0.1", port=0, access=Access(None), public_url=None
    )
    app = await server._make_app()
    assert isinstance(app, web.Application)
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert {"/", "/ws", "/download/{key}", "/static"} <= paths
    assert len(app.middlewares) == 1  # crewdash's access middleware, added before freezing
    index = app.router["index"]
    handler = next(iter(index)).handler
    assert getattr(handler, "__func__", None) is DashboardServer.handle_index


def test_the_page_reads_public_url_and_the_command_runs_through_a_shell() -> None:
    index_source = inspect.getsource(Server.handle_index)
    assert "self.public_url" in index_source
    assert "app_websocket_url" in index_source
    assert "create_subprocess_shell" in inspect.getsource(AppService._open_app_process)
    assert "os.environ" in inspect.getsource(AppService._build_environment)
    template = Path(inspect.getfile(Server)).parent / "templates" / "app_index.html"
    assert "{{ app_websocket_url }}" in template.read_text()
    assert "on_startup" in inspect.getsource(Server._make_app)
