"""WeChat files: fetch a follower's photo or recording (media/get; for a photo the PicUrl when
that fails) and upload one from another platform as temporary media (media/upload → media_id).

A temporary media_id lives 3 days, so it is uploaded at send time and never kept.
"""

from __future__ import annotations

import aiohttp

from bot.channels.wechat.api import WeChatAPI, WeChatError, WeChatHttpError
from bot.channels.wechat.messages import PHOTO_SEPARATOR
from bot.media import MB, Media, MediaError, MediaKind, check_size, extension_of

MEDIA_GET = "/cgi-bin/media/get"
MEDIA_UPLOAD = "/cgi-bin/media/upload"
# 临时素材: images up to 10 MB (PNG/JPEG/GIF), voice up to 2 MB and 60 s in AMR or MP3.
LIMITS = {MediaKind.PHOTO: 10 * MB, MediaKind.VOICE: 2 * MB}
VOICE_TYPES = frozenset({"audio/amr", "audio/mpeg", "audio/mp3"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/gif"})
FETCH_LIMIT = 20 * MB  # what the bot reads of a PicUrl before giving up
# WeChat's answers that no retry changes: an unknown or expired media_id, a refused file.
REFUSED = frozenset({40004, 40005, 40006, 40007, 41005, 41006, 45001, 46001})


class WeChatMedia:
    """Fetch (for the other channels) and upload (for the WeChat transport)."""

    def __init__(self, api: WeChatAPI, session: aiohttp.ClientSession) -> None:
        self.api = api
        self.session = session

    async def fetch(self, ref: str) -> Media:
        media_id, _, pic_url = ref.partition(PHOTO_SEPARATOR)
        try:
            data, content_type, name = await self.api.get_file(MEDIA_GET, {"media_id": media_id})
            return Media(data, content_type.split(";", 1)[0], name)
        except WeChatError as exc:
            failure = MediaError(f"wechat media/get: {exc.code} {exc.message}", permanent=exc.code in REFUSED)
        except (WeChatHttpError, aiohttp.ClientError, TimeoutError) as exc:
            failure = MediaError(f"wechat media/get: {type(exc).__name__}")
        if not pic_url:
            raise failure
        # A photo also has its PicUrl, which outlives the 3-day media_id.
        return await self._pic(pic_url, failure)

    async def _pic(self, url: str, failure: MediaError) -> Media:
        try:
            async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status >= 400:
                    raise MediaError(f"{failure.reason}; PicUrl: HTTP {response.status}",
                                     permanent=failure.permanent and response.status == 404)
                data = await response.content.read(FETCH_LIMIT + 1)
                content_type = response.headers.get("Content-Type", "image/jpeg").split(";", 1)[0]
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaError(f"{failure.reason}; PicUrl: {type(exc).__name__}") from exc
        if len(data) > FETCH_LIMIT:
            raise MediaError("PicUrl: over 20 MB", permanent=True)
        return Media(data, content_type if content_type.startswith("image/") else "image/jpeg", "photo.jpg")

    async def upload(self, media: Media, kind: MediaKind) -> str:
        """A fresh temporary media_id for `media`; MediaError if WeChat would (or did) refuse it."""
        check_size(media, LIMITS[kind], f"WeChat {kind.value}")
        accepted = VOICE_TYPES if kind is MediaKind.VOICE else IMAGE_TYPES
        if media.content_type not in accepted:
            # WeChat plays AMR and MP3 only; a Telegram voice note (OGG/Opus) is not converted.
            raise MediaError(f"WeChat {kind.value} does not take {media.content_type}", permanent=True)
        wechat_type = "voice" if kind is MediaKind.VOICE else "image"
        name = f"{kind.value}{extension_of(media.content_type)}"
        try:
            result = await self.api.upload(MEDIA_UPLOAD, {"type": wechat_type}, "media", media.data, name,
                                           media.content_type)
        except WeChatError as exc:
            raise MediaError(f"wechat media/upload: {exc.code} {exc.message}",
                             permanent=exc.code in REFUSED) from exc
        except (WeChatHttpError, aiohttp.ClientError, TimeoutError) as exc:
            raise MediaError(f"wechat media/upload: {type(exc).__name__}") from exc
        media_id = str(result.get("media_id") or "")
        if not media_id:
            raise MediaError("wechat media/upload: no media_id in the answer")
        return media_id
