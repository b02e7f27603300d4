"""Security headers on every workplace response: a strict CSP (no inline script or style; the
map's tile host is the only other origin, and only for images), no framing, no caching of pages
with personal data, no referrer (a sign-in link's token never leaves in a Referer header)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware


def tile_origin(template: str) -> str:
    """The origin of a tile URL template ('' without tiles): the CSP's only outside image source."""
    if not template:
        return ""
    parts = urlsplit(template.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}." in template else parts.netloc
    return f"{parts.scheme}://{host}"


def content_security_policy(tiles: str) -> str:
    images = " ".join(filter(None, ("'self'", "data:", tile_origin(tiles))))
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")


def security_headers(tiles: str, static_prefix: str) -> Middleware:
    policy = content_security_policy(tiles)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        # Vendored files carry nothing personal; every page and fragment may.
        static = request.path.startswith(static_prefix) and response.status == 200
        if static:
            response.headers["Cache-Control"] = "private, max-age=3600"
        else:  # a ticket's photo says "private, no-store" itself
            response.headers.setdefault("Cache-Control", "no-store")
        if isinstance(response, web.HTTPException):
            raise response
        return response

    return middleware
