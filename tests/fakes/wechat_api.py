"""A fake WeChat official-account + WeCom group-robot API server (real HTTP on 127.0.0.1) for tests.

Point ``wechat.api_base_url`` and ``wecom.api_base_url`` at :attr:`FakeWeChatAPI.url`. Like the
real platform it always answers HTTP 200 with a JSON ``errcode`` (0 is success), unless a test asks
for an HTTP error. Accepted calls land in ``calls``; every request, refused or not, lands in
``attempts``. Fault and delay injection must happen on the event loop that runs the server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]
TOKEN = "/cgi-bin/token"
CUSTOM_SEND = "/cgi-bin/message/custom/send"
TEMPLATE_SEND = "/cgi-bin/message/template/send"
MENU_CREATE = "/cgi-bin/menu/create"
MENU_GET = "/cgi-bin/menu/get"
ROBOT_SEND = "/cgi-bin/webhook/send"
MEDIA_GET = "/cgi-bin/media/get"
MEDIA_UPLOAD = "/cgi-bin/media/upload"
PIC_PREFIX = "/mmbiz/"  # where this fake serves an image message's PicUrl
# 临时素材 limits and formats (新增临时素材): image 10 MB PNG/JPEG/GIF, voice 2 MB AMR/MP3.
UPLOAD_TYPES = {"image": (10 * 1024 * 1024, ("image/jpeg", "image/png", "image/gif")),
                "voice": (2 * 1024 * 1024, ("audio/amr", "audio/mpeg", "audio/mp3"))}
ROBOT_TEXT_LIMIT = 2048  # UTF-8 bytes of text.content
ROBOT_MARKDOWN_LIMIT = 4096
CUSTOM_MSGTYPES = frozenset({"text", "image", "msgmenu", "news", "voice", "video", "music", "mpnews"})
ERRMSG = {
    -1: "system error", 40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type", 40003: "invalid openid", 40008: "invalid message type",
    40004: "invalid media type", 40006: "invalid meida size", 40007: "invalid media_id",
    40013: "invalid appid", 40016: "invalid button size", 40037: "invalid template_id",
    40058: "invalid Request Parameter", 40125: "invalid appsecret", 42001: "access_token expired",
    43004: "require subscribe", 44004: "empty content", 45009: "api freq out of limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit", 46003: "menu no exist", 47001: "data format error",
    48001: "api unauthorized", 93000: "invalid webhook url",
}


@dataclass(frozen=True)
class WeChatCall:
    """One request; ``token`` is the access_token, or the key for robot webhooks."""

    path: str
    query: dict[str, str]
    body: JSONDict | None
    token: str


@dataclass(frozen=True)
class WeChatAttempt:
    """Any request with what the fake answered: an errcode, or an HTTP error status."""

    call: WeChatCall
    errcode: int | None
    http_status: int = 200


@dataclass
class _Rule:
    path: str
    value: Any
    times: int | None  # None: every call until clear_faults()


def _err(errcode: int, errmsg: str = "") -> JSONDict:
    return {"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "error")}


def _ok(**extra: Any) -> JSONDict:
    return {"errcode": 0, "errmsg": "ok", **extra}


def _path(path: str) -> str:
    return path if path.startswith("/") else f"/{path}"


class FakeWeChatAPI:
    """In-memory WeChat/WeCom APIs: inspect ``calls``/``pushes``/``robot_messages``, inject faults."""

    def __init__(self, app_id: str = "wx0123456789abcdef", app_secret: str = "test-secret", *,
                 clock: Callable[[], float] = time.monotonic, robot_per_minute: int = 20) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.clock = clock
        self.robot_per_minute = robot_per_minute
        self.token_lifetime = 7200
        self.url = ""
        self.calls: list[WeChatCall] = []
        self.attempts: list[WeChatAttempt] = []
        self.menu: JSONDict | None = None
        self.tokens_issued = 0
        self._tokens: dict[str, float] = {}  # token -> clock() deadline
        self._robot_keys: set[str] = set()
        self._robot_sent: dict[str, deque[float]] = {}
        self._next_msgid = 1000
        self._faults: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._http_errors: list[_Rule] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        # Temporary media by media_id: (bytes, content type). Followers' photos and recordings are
        # added with add_media; media/upload adds the bot's. Custom messages must name one.
        self.media: dict[str, tuple[bytes, str]] = {}
        self.pictures: dict[str, bytes] = {}  # PicUrl path -> image bytes
        self.uploads: list[tuple[str, str, bytes]] = []  # (type, media_id, bytes) of media/upload
        self._routes: dict[tuple[str, str], Callable[[WeChatCall], JSONDict]] = {
            ("GET", TOKEN): self._token, ("POST", CUSTOM_SEND): self._custom_send,
            ("POST", TEMPLATE_SEND): self._template_send, ("POST", MENU_CREATE): self._menu_create,
            ("GET", MENU_GET): self._menu_get, ("POST", ROBOT_SEND): self._robot_send,
        }

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and set :attr:`url`."""
        app = web.Application(client_max_size=64 * 1024 * 1024)  # uploads up to the platforms' limits
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeWeChatAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- setup and inspection
    def add_media(self, media_id: str, data: bytes, content_type: str) -> None:
        """A file a follower sent (WeChat keeps it 3 days as temporary media)."""
        self.media[media_id] = (data, content_type)

    def pic_url(self, name: str, data: bytes) -> str:
        """An image message's PicUrl, served by this fake."""
        self.pictures[f"{PIC_PREFIX}{name}"] = data
        return f"{self.url}{PIC_PREFIX}{name}"

    def expire_media(self, media_id: str) -> None:
        """Three days later: the media_id is gone (media/get and sends answer 40007)."""
        self.media.pop(media_id, None)

    def add_robot_key(self, key: str) -> None:
        self._robot_keys.add(key)

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001."""
        self._tokens = dict.fromkeys(self._tokens, float("-inf"))

    def _bodies(self, path: str, field: str, value: str) -> list[JSONDict]:
        return [c.body for c in self.calls
                if c.path == path and c.body is not None and c.body.get(field) == value]

    def pushes(self, openid: str) -> list[JSONDict]:
        """Customer-service message bodies delivered to ``openid``, in order."""
        return self._bodies(CUSTOM_SEND, "touser", openid)

    def templates(self, openid: str) -> list[JSONDict]:
        return self._bodies(TEMPLATE_SEND, "touser", openid)

    def robot_messages(self, key: str) -> list[JSONDict]:
        return [c.body for c in self.calls if c.path == ROBOT_SEND and c.token == key and c.body]

    async def wait_for(self, predicate: Callable[[WeChatCall], bool], timeout: float = 5.0,  # noqa: ASYNC109
                       *, after: int = 0) -> WeChatCall:
        """First accepted call in ``calls[after:]`` matching ``predicate``, waiting for it if needed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for call in self.calls[after:]:
                if predicate(call):
                    return call
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                lines = "\n".join(f"  {a.call.path} -> errcode {a.errcode} (HTTP {a.http_status}):"
                                  f" {a.call.body!r}" for a in self.attempts)
                raise AssertionError(
                    f"no matching call within {timeout}s; attempts:\n{lines or '  (none)'}") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # ---------------------------------------------------------------- fault injection
    def fail_next(self, path: str, errcode: int, errmsg: str = "", times: int = 1) -> None:
        """Answer the next ``times`` calls of ``path`` with ``errcode`` instead of acting on them."""
        self._faults.append(_Rule(_path(path), _err(errcode, errmsg), times))

    def fail_always(self, path: str, errcode: int, errmsg: str = "") -> None:
        self._faults.append(_Rule(_path(path), _err(errcode, errmsg), None))

    def delay_next(self, path: str, seconds: float, times: int = 1) -> None:
        """Delay the answer (not the effect) of the next ``times`` calls of ``path``."""
        self._delays.append(_Rule(_path(path), seconds, times))

    def http_error_next(self, path: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``path`` with a bare HTTP error, acting on none."""
        self._http_errors.append(_Rule(_path(path), status, times))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._http_errors.clear()

    @staticmethod
    def _take(rules: list[_Rule], path: str) -> Any:
        for rule in rules:
            if rule.path == path:
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        rules.remove(rule)
                return rule.value
        return None

    # ---------------------------------------------------------------- HTTP
    async def _handle(self, request: web.Request) -> web.Response:
        path = _path(request.match_info["path"])
        query = dict(request.query)
        if path.startswith(PIC_PREFIX) and request.method == "GET":
            picture = self.pictures.get(path)
            return web.Response(body=picture, content_type="image/jpeg") if picture is not None \
                else web.Response(status=404)
        if (path, request.method) in ((MEDIA_GET, "GET"), (MEDIA_UPLOAD, "POST")):
            return await self._media_call(request, path, query)
        raw = await request.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else None
        call = WeChatCall(path, query, body, query.get("access_token") or query.get("key", ""))
        status, answer = self._respond(request.method, call, bool(raw) and body is None)
        errcode = answer.get("errcode", 0) if status == 200 else None
        self.attempts.append(WeChatAttempt(call, errcode, status))
        if errcode == 0 and path != TOKEN:
            self.calls.append(call)
        self._notify()
        if (delay := self._take(self._delays, path)) is not None:
            await asyncio.sleep(delay)
        if status != 200:
            return web.Response(status=status, text=HTTPStatus(status).phrase)
        return web.json_response(answer, dumps=partial(json.dumps, ensure_ascii=False))

    def _respond(self, method: str, call: WeChatCall, bad_json: bool) -> tuple[int, JSONDict]:
        """Faults first, then the endpoint; everything synchronous so effects are atomic."""
        if (status := self._take(self._http_errors, call.path)) is not None:
            return status, {}
        if (fault := self._take(self._faults, call.path)) is not None:
            return 200, dict(fault)
        handler = self._routes.get((method, call.path))
        if handler is None:
            return 200, _err(48001)
        if bad_json or (method == "POST" and not isinstance(call.body, dict)):
            return 200, _err(47001)
        if call.path not in (TOKEN, ROBOT_SEND) and (refusal := self._check_token(call.token)):
            return 200, refusal
        return 200, handler(call)

    def _check_token(self, token: str) -> JSONDict | None:
        deadline = self._tokens.get(token)
        if deadline is None:
            return _err(40001)
        return _err(42001) if self.clock() >= deadline else None

    # ---------------------------------------------------------------- endpoints
    def _token(self, call: WeChatCall) -> JSONDict:
        if call.query.get("grant_type") != "client_credential":
            return _err(40002)
        if call.query.get("appid") != self.app_id:
            return _err(40013)
        if call.query.get("secret") != self.app_secret:
            return _err(40125)
        self.tokens_issued += 1
        token = f"ACCESS_TOKEN_{self.tokens_issued:04d}"
        self._tokens[token] = self.clock() + self.token_lifetime
        return {"access_token": token, "expires_in": self.token_lifetime}

    async def _media_call(self, request: web.Request, path: str, query: dict[str, str]) -> web.Response:
        """media/get answers the file itself (or a JSON error); media/upload takes multipart."""
        form = await request.post() if path == MEDIA_UPLOAD else {}
        upload = form.get("media")
        call = WeChatCall(path, query, None, query.get("access_token", ""))
        answer: JSONDict | None = None
        if (fault := self._take(self._faults, path)) is not None:
            answer = dict(fault)
        elif (refusal := self._check_token(call.token)) is not None:
            answer = refusal
        elif path == MEDIA_GET:
            found = self.media.get(query.get("media_id", ""))
            if found is None:
                answer = _err(40007)
            else:
                self.calls.append(call)
                self.attempts.append(WeChatAttempt(call, 0))
                self._notify()
                return web.Response(body=found[0], headers={
                    "Content-Type": found[1],
                    "Content-Disposition": f'attachment; filename="{query["media_id"]}.bin"'})
        else:
            answer = self._upload(query.get("type", ""), upload)
            if answer.get("media_id"):
                self.calls.append(WeChatCall(path, query, {"type": answer["type"]}, call.token))
        errcode = int(answer.get("errcode", 0) or 0)
        self.attempts.append(WeChatAttempt(call, errcode))
        self._notify()
        return web.json_response(answer, dumps=partial(json.dumps, ensure_ascii=False))

    def _upload(self, media_type: str, upload: Any) -> JSONDict:
        if media_type not in UPLOAD_TYPES:
            return _err(40004)
        if not isinstance(upload, web.FileField):
            return _err(41005, "media data missing")
        data = upload.file.read()
        limit, types = UPLOAD_TYPES[media_type]
        if upload.content_type not in types:
            return _err(40004)
        if not data or len(data) > limit:
            return _err(40006)
        self._next_msgid += 1
        media_id = f"UPLOADED_{media_type.upper()}_{self._next_msgid}"
        self.media[media_id] = (data, upload.content_type)
        self.uploads.append((media_type, media_id, data))
        return {"type": media_type, "media_id": media_id, "created_at": int(self.clock())}

    def _custom_send(self, call: WeChatCall) -> JSONDict:
        body = call.body or {}
        if not body.get("touser"):
            return _err(40003)
        msgtype = body.get("msgtype")
        if msgtype not in CUSTOM_MSGTYPES or not isinstance(body.get(msgtype), dict):
            return _err(40008)
        if msgtype in ("image", "voice") and body[msgtype].get("media_id") not in self.media:
            return _err(40007)
        if msgtype == "text" and not str(body["text"].get("content") or "").strip():
            return _err(44004)
        return _ok()

    def _template_send(self, call: WeChatCall) -> JSONDict:
        body = call.body or {}
        if not body.get("touser"):
            return _err(40003)
        if not body.get("template_id"):
            return _err(40037)
        self._next_msgid += 1
        return _ok(msgid=self._next_msgid)

    def _menu_create(self, call: WeChatCall) -> JSONDict:
        buttons = (call.body or {}).get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return _err(40016)
        self.menu = call.body
        return _ok()

    def _menu_get(self, call: WeChatCall) -> JSONDict:
        return {"menu": self.menu} if self.menu is not None else _err(46003)

    def _robot_send(self, call: WeChatCall) -> JSONDict:
        if call.token not in self._robot_keys:
            return _err(93000, "invalid webhook url, hint: [fake]")
        body = call.body or {}
        msgtype = body.get("msgtype")
        limit = {"text": ROBOT_TEXT_LIMIT, "markdown": ROBOT_MARKDOWN_LIMIT}.get(str(msgtype))
        section = body.get(msgtype) if limit else None
        if not isinstance(section, dict):
            return _err(40008)
        content = str(section.get("content") or "")
        if not content.strip():
            return _err(44004)
        if len(content.encode("utf-8")) > limit:
            return _err(40058, f"{msgtype}.content exceed max length {limit}. invalid Request Parameter")
        sent = self._robot_sent.setdefault(call.token, deque())
        now = self.clock()
        while sent and sent[0] <= now - 60:  # a rolling minute
            sent.popleft()
        if len(sent) >= self.robot_per_minute:
            return _err(45009)
        sent.append(now)
        return _ok()
