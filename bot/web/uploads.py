"""办结 photos uploaded from the ticket page: a size cap on the request, and the type told by the
file's first bytes (a name or a browser's Content-Type says nothing). JPEG and PNG only: WeChat's
临时素材 takes PNG/JPEG/GIF, Telegram's sendPhoto JPEG/PNG, and without Pillow nothing converts a
WebP, so accepting one would leave a WeChat resident without the photo."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.media import MB

UPLOAD_LIMIT = 10 * MB  # Telegram sendPhoto and WeChat images both stop at 10 MB
# The form's other fields and multipart headers around the file.
REQUEST_LIMIT = UPLOAD_LIMIT + 256 * 1024
MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


class UploadProblem(StrEnum):
    NOT_IMAGE = "web_upload_not_image"
    TOO_BIG = "web_upload_too_big"


@dataclass(frozen=True)
class Checked:
    data: bytes
    content_type: str


def image_type(data: bytes) -> str | None:
    """The image's MIME type by its magic bytes; None for anything else."""
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), None)


def check_upload(data: bytes) -> Checked | UploadProblem:
    if len(data) > UPLOAD_LIMIT:
        return UploadProblem.TOO_BIG
    kind = image_type(data)
    return UploadProblem.NOT_IMAGE if kind is None else Checked(data, kind)


def upload_size() -> Middleware:
    """The bot's server takes 1 MB bodies; the 办结 form of a signed-in person may carry a photo,
    so it is read with a cap of its own (a larger body is 413 before anything changes)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (request.method == "POST" and request.path.endswith("/resolve")
                and request.content_type == "multipart/form-data"):
            request = request.clone(client_max_size=REQUEST_LIMIT)
        return await handler(request)

    return middleware
