"""Who may open `crewdash serve`'s pages: an aiohttp middleware in front of every route (the
page, its static files, the websocket that drives a dashboard, downloads).

- With an access token (required when the server listens beyond loopback, or set in
  `$CREWDASH_SERVE_TOKEN`), a request must present it: `?token=` on the page once, which
  answers with a redirect to the same address without it and sets an HttpOnly, SameSite=Strict
  cookie that the page's later requests (static files, the websocket) carry; or
  `Authorization: Bearer <token>` (scripts). Compared in constant time. A request without it
  gets 401 and a log line (method, path, client; never the query, which may hold a token).
- Without a token (loopback only), the Host header must name this machine's loopback (or the
  `--public-url` host): a web page elsewhere cannot reach the server by a DNS name rebound to
  127.0.0.1.
- Always, a websocket whose Origin is another site is refused (403): a browser lets any page
  open a websocket to any address, cookies included.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

log = logging.getLogger("crewdash.serve")

COOKIE = "crewdash_access"
TOKEN_ENV = "CREWDASH_SERVE_TOKEN"
#: what an access token may be made of: what a URL's query and a cookie carry as they are
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~-]{16,256}")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is loopback."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_token(token: str) -> str:
    """`token` if it can be one (16-256 characters of A-Z a-z 0-9 . _ ~ -), else ValueError."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise ValueError(
            f"${TOKEN_ENV} must be 16 to 256 characters of letters, digits and . _ ~ -"
        )
    return token


@dataclass(frozen=True)
class Access:
    """What the middleware asks: `token` (None: none, loopback only), `public_host` (the
    `--public-url` host, also accepted in the Host header), `secure` (cookie only over https)."""

    token: str | None
    public_host: str | None = None
    secure: bool = False


def _same(offered: str, token: str) -> bool:
    return hmac.compare_digest(offered.encode(), token.encode())


def _host_name(host: str) -> str:
    """The name in a Host header, without its port."""
    return urlsplit(f"//{host}").hostname or ""


def _cross_site_websocket(request: web.Request) -> bool:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return False
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc.lower() != request.host.lower()


def _without_token(request: web.Request) -> str:
    query = request.rel_url.query.copy()
    query.popall("token", None)
    return str(request.rel_url.with_query(query))


def _refuse(request: web.Request, status: type[web.HTTPException], why: str) -> web.HTTPException:
    log.warning(
        "%s %s %s from %s: %s",
        status.status_code,
        request.method,
        request.path,
        request.remote,
        why,
    )
    return status(text=f"crewdash serve: {why}\n")


def access_middleware(access: Access) -> Middleware:
    """The middleware that lets in only what `access` allows (see the module docstring)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _cross_site_websocket(request):
            raise _refuse(request, web.HTTPForbidden, "a websocket from another site")
        token = access.token
        if token is None:
            name = _host_name(request.host)
            if not is_loopback(name) and name != access.public_host:
                raise _refuse(request, web.HTTPForbidden, "a Host that is not this machine")
            return await handler(request)
        offered = request.query.get("token")
        if offered is not None and _same(offered, token):
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await handler(request)
            # once: the token goes into a cookie, and out of the address bar and history
            redirect = web.HTTPSeeOther(location=_without_token(request))
            redirect.set_cookie(
                COOKIE, token, httponly=True, samesite="Strict", secure=access.secure, path="/"
            )
            raise redirect
        bearer = request.headers.get("Authorization", "")
        presented = request.cookies.get(COOKIE) or bearer.removeprefix("Bearer ").strip()
        if presented and _same(presented, token):
            return await handler(request)
        raise _refuse(request, web.HTTPUnauthorized, "no valid access token")

    return guard
