"""A fake Telegram Bot API server (real HTTP on 127.0.0.1) for tests.

Point a real ``telegram.Bot(token, base_url=f"{fake.url}/bot")`` at it, in-process or from a
child process. python-telegram-bot sends every parameter as a form field (urlencoded, or
multipart when uploading); scalars arrive as plain strings (``"42"``, ``"true"``) and nested
objects (``reply_markup``, ``link_preview_options``, ...) as JSON strings. JSON bodies and query
strings are accepted too. All ``push_*``/``fail_next``/``delay_next`` calls must happen on the
event loop thread that runs the server.

Every request is first checked against the vendored Bot API spec (:mod:`tests.fakes.telegram_spec`):
an unknown method is answered 404, an invalid parameter 400, as Telegram does, and the refusal is
kept in :attr:`FakeTelegramAPI.violations`. Leaving ``async with FakeTelegramAPI()`` (the
``fake`` fixture does) fails the test if any was not declared with :meth:`expect_violations`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web

from tests.fakes.telegram_spec import SpecViolation, load_spec, utf16_len

_TEXT_FIELDS = frozenset(
    {"text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "photo", "file_id",
     "voice", "audio", "document",
     "language_code", "url", "secret_token", "title", "description", "address", "question", "emoji"}
)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_TRUE_METHODS = frozenset(
    {"answerCallbackQuery", "setMyCommands", "deleteMyCommands", "setWebhook", "deleteWebhook",
     "sendChatAction", "deleteMessage", "setMyDescription", "setMyShortDescription", "setMyName",
     "setChatMenuButton", "pinChatMessage", "unpinChatMessage", "close", "logOut"}
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
}
_PLACEHOLDER_FILE = b"\xff\xd8\xff\xe0fake-jpeg"  # served for file ids not in ``files``
JSONDict = dict[str, Any]


@dataclass
class SentMessage:
    """One message the bot sent (or edited). ``text`` holds the caption for photos; ``photo`` the
    file id of a photo, voice, audio or document sent (an upload's is a key of ``files``)."""

    method: str
    chat_id: int
    text: str | None
    reply_markup: JSONDict | None
    parse_mode: str | None
    link_preview_options: JSONDict | None
    photo: str | None
    message_id: int
    params: JSONDict = field(default_factory=dict)

    @property
    def buttons(self) -> list[JSONDict]:
        """All buttons of the inline or reply keyboard, flattened row by row."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | None
    migrate_to_chat_id: int | None = None


class ApiError(Exception):
    """Raised inside a handler to answer with a Bot API error."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def _decode(name: str, value: Any) -> Any:
    """Turn a form-field string into the value Telegram would see."""
    if not isinstance(value, str) or name in _TEXT_FIELDS:
        return value
    if value and value[0] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    if _NUMBER.fullmatch(value):
        return float(value) if "." in value else int(value)
    return value


@dataclass(frozen=True)
class Violation:
    """A request the Bot API would refuse per the spec: what was asked and how it was answered."""

    method: str
    status: int
    description: str
    params: JSONDict


class FakeTelegramAPI:
    """In-memory Bot API: queue updates with ``push_*``, inspect ``sent``/``calls``."""

    def __init__(self, token: str = "123456:TEST", bot_username: str = "weifengshan_bot") -> None:
        self.token = token
        self.bot_username = bot_username
        self.url = ""
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, JSONDict]] = []
        self.confirmed_offset = 0
        self.commands: list[JSONDict] = []
        self.files: dict[str, bytes] = {}  # getFile/download contents; sendPhoto uploads land here
        self.file_paths: dict[str, str] = {}  # file_id -> file_path getFile answers (photos/<id>.jpg)
        self.updates: list[JSONDict] = []  # unconfirmed updates, oldest first
        self.violations: list[Violation] = []  # requests refused as invalid per the spec
        self._expected_violations: list[re.Pattern[str]] = []
        self._next_update_id = 1
        self._unfiltered: set[int] = set()  # update ids delivered whatever allowed_updates says
        self._next_message_id = 1
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._faults: list[_Fault] = []
        self._delays: list[list[Any]] = []  # [method, seconds, times]
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        head = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(head) if head.isdigit() else 123456, "is_bot": True,
            "first_name": "微丰山", "username": bot_username,
        }

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port and set :attr:`url`."""
        app = web.Application(client_max_size=64 * 1024 * 1024)  # uploads up to the platforms' limits
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        app.router.add_route("*", "/{prefix}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    @property
    def file_url(self) -> str:
        """Pass as ``base_file_url`` so ``File.download_*`` fetches from :attr:`files`."""
        return f"{self.url}/file/bot"

    async def stop(self) -> None:
        """Wake long-polls (they answer with no updates) and shut the server down; idempotent."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        await self.stop()
        if exc_type is None:
            self.assert_valid_requests()

    # ---------------------------------------------------------------- spec violations
    def expect_violations(self, *patterns: str) -> None:
        """Declare that the test sends invalid requests on purpose: refusals whose description
        matches one of these regular expressions do not fail it."""
        self._expected_violations.extend(re.compile(p) for p in patterns)

    def unexpected_violations(self) -> list[Violation]:
        return [v for v in self.violations
                if not any(p.search(v.description) for p in self._expected_violations)]

    def assert_valid_requests(self) -> None:
        """Fail unless every request so far was valid per the spec (or declared invalid)."""
        if bad := self.unexpected_violations():
            lines = "\n".join(f"  {v.method}: {v.status} {v.description}; params {v.params!r:.400}"
                              for v in bad)
            raise AssertionError(f"{len(bad)} request(s) invalid per Bot API "
                                 f"{load_spec().version}:\n{lines}")

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, deadline: float) -> bool:
        """Wait for any state change until ``deadline`` (loop time); False when it passed."""
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(self._changed.wait(), remaining)
        except TimeoutError:
            return False
        return True

    # ---------------------------------------------------------------- injecting updates
    def _chat(self, chat_id: int, chat_type: str, first_name: str = "居民") -> JSONDict:
        chat = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": first_name} if chat_type == "private" else {"title": "测试群"})
        self._chats[chat_id] = chat
        return chat

    def _incoming(self, user_id: int, chat_id: int | None, chat_type: str, first_name: str = "居民",
                  message_id: int | None = None) -> JSONDict:
        if chat_id is None:
            chat_id = user_id if chat_type == "private" else -user_id
        if message_id is None:
            message_id, self._next_message_id = self._next_message_id, self._next_message_id + 1
        return {"message_id": message_id, "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type, first_name),
                "from": {"id": user_id, "is_bot": False, "first_name": first_name,
                         "language_code": "zh-hans"}}

    def push_text(self, user_id: int, text: str, *, chat_id: int | None = None,
                  chat_type: str = "private", first_name: str = "居民",
                  message_id: int | None = None) -> int:
        """Queue a text message; a leading ``/command`` gets a ``bot_command`` entity."""
        msg = self._incoming(user_id, chat_id, chat_type, first_name, message_id)
        msg["text"] = text
        command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
        if len(command) > 1:
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return self.push_raw({"message": msg})

    def push_photo(self, user_id: int, file_id: str, *, caption: str = "",
                   chat_id: int | None = None, chat_type: str = "private") -> int:
        """Queue a photo message; ``file_id`` is on the last (largest) PhotoSize."""
        msg = self._incoming(user_id, chat_id, chat_type)
        msg["photo"] = self._photo_sizes(file_id)
        if caption:
            msg["caption"] = caption
        return self.push_raw({"message": msg})

    def push_voice(self, user_id: int, file_id: str, data: bytes = b"OggS fake opus", *,
                   duration: int = 4, chat_id: int | None = None, chat_type: str = "private") -> int:
        """Queue a voice note (OGG/Opus, as Telegram clients record them); its file can be fetched."""
        self.files[file_id] = data
        self.file_paths[file_id] = f"voice/{file_id}.oga"
        msg = self._incoming(user_id, chat_id, chat_type)
        msg["voice"] = {"file_id": file_id, "file_unique_id": f"u_{file_id}", "duration": duration,
                        "mime_type": "audio/ogg", "file_size": len(data)}
        return self.push_raw({"message": msg})

    def push_location(self, user_id: int, latitude: float, longitude: float, *,
                      chat_id: int | None = None, chat_type: str = "private") -> int:
        msg = self._incoming(user_id, chat_id, chat_type)
        msg["location"] = {"latitude": latitude, "longitude": longitude}
        return self.push_raw({"message": msg})

    def push_callback(self, user_id: int, data: str, *, message_chat_id: int | None = None,
                      message_id: int = 1, chat_type: str = "private") -> int:
        """Queue a button press on bot message ``message_id`` (the real one if it was sent)."""
        chat_id = user_id if message_chat_id is None else message_chat_id
        message = self._messages.get((chat_id, message_id)) or {
            "message_id": message_id, "date": int(time.time()), "from": self.bot_user,
            "chat": self._chats.get(chat_id) or self._chat(chat_id, chat_type), "text": "…"}
        query = {"id": str(self._next_update_id * 1000 + 7), "chat_instance": str(chat_id),
                 "from": {"id": user_id, "is_bot": False, "first_name": "居民"},
                 "data": data, "message": message}
        return self.push_raw({"callback_query": query})

    def push_raw(self, update: JSONDict) -> int:
        """Queue any update dict; assigns the next ``update_id`` when it has none."""
        update = dict(update)
        update.setdefault("update_id", self._next_update_id)
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        self.updates.append(update)
        self._notify()
        return update["update_id"]

    # ---------------------------------------------------------------- any update kind
    def push_queued_earlier(self, update: JSONDict) -> int:
        """Queue an update Telegram created before the bot's `allowed_updates` took effect: the
        Bot API delivers those whatever the bot asked for (getUpdates: "this parameter doesn't
        affect updates created before the call"), so any kind can reach the bot."""
        update_id = self.push_raw(update)
        self._unfiltered.add(update_id)
        return update_id

    def _deliverable(self, update: JSONDict, allowed: list[str]) -> bool:
        if not allowed or update["update_id"] in self._unfiltered:
            return True
        return any(kind in update for kind in allowed)

    @property
    def allowed_updates(self) -> list[str] | None:
        """What the latest getUpdates or setWebhook call asked for (None: never said)."""
        for method, params in reversed(self.calls):
            if method in ("getUpdates", "setWebhook") and "allowed_updates" in params:
                return list(params["allowed_updates"])
        return None

    # ---------------------------------------------------------------- inspecting
    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for(self, predicate: Callable[[SentMessage], bool], timeout: float = 5.0,  # noqa: ASYNC109
                       *, after: int = 0) -> SentMessage:
        """First message in ``sent[after:]`` matching ``predicate``, waiting for it if needed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self.sent[after:]:
                if predicate(message):
                    return message
            if not await self._wait_change(deadline):
                lines = "\n".join(f"  {m.method} -> {m.chat_id}: {m.text!r}" for m in self.sent)
                raise AssertionError(f"no matching message within {timeout}s; sent:\n{lines}")

    async def wait_for_call(self, method: str, timeout: float = 5.0,  # noqa: ASYNC109
                            *, after: int = 0) -> JSONDict:
        """Params of the first call of ``method`` in ``calls[after:]``, waiting if needed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for name, params in self.calls[after:]:
                if name == method:
                    return params
            if not await self._wait_change(deadline):
                seen = [name for name, _ in self.calls]
                raise AssertionError(f"{method} not called within {timeout}s; calls: {seen}")

    # ---------------------------------------------------------------- fault injection
    def fail_next(self, method: str, *, status: int, description: str = "",
                  retry_after: int | None = None, times: int = 1,
                  chat_id: int | None = None, migrate_to_chat_id: int | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id`` if given) with an error;
        ``migrate_to_chat_id`` answers as for a group that became a supergroup."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if not description:
            description = (f"Too Many Requests: retry after {retry_after}" if status == 429
                           else _DEFAULT_DESCRIPTIONS.get(status, HTTPStatus(status).phrase))
        if migrate_to_chat_id is not None and not description.startswith("Bad Request: group chat"):
            description = "Bad Request: group chat was upgraded to a supergroup chat"
        self._faults.append(_Fault(method, status, description, retry_after, times, chat_id, migrate_to_chat_id))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Delay the answer (not the effect) of the next ``times`` calls of ``method``."""
        self._delays.append([method, seconds, times])

    def _take_fault(self, method: str, params: JSONDict) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, params.get("chat_id")):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ---------------------------------------------------------------- HTTP
    @staticmethod
    def _error(status: int, description: str, parameters: JSONDict | None = None) -> web.Response:
        body: JSONDict = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _handle(self, request: web.Request) -> web.Response:
        prefix, method = request.match_info["prefix"], request.match_info["method"]
        if not prefix.startswith("bot"):
            return self._error(404, "Not Found")
        if prefix[3:] != self.token:
            return self._error(401, "Unauthorized")
        raw: JSONDict = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.can_read_body:
            raw.update({k: v.file.read() if isinstance(v, web.FileField) else v
                        for k, v in (await request.post()).items()})
        method = load_spec().method(method) or method  # Bot API method names are case-insensitive
        params: JSONDict = {k: _decode(k, v) for k, v in raw.items()}
        self.calls.append((method, params))
        self._notify()
        try:
            load_spec().check(method, raw)
        except SpecViolation as refused:
            self.violations.append(Violation(method, refused.status, refused.description, params))
            return self._error(refused.status, refused.description)
        if (fault := self._take_fault(method, params)) is not None:
            extra = {"retry_after": fault.retry_after} if fault.retry_after else None
            if fault.migrate_to_chat_id is not None:
                extra = {"migrate_to_chat_id": fault.migrate_to_chat_id}
            return self._error(fault.status, fault.description, extra)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None and method not in _TRUE_METHODS:
            return self._error(404, "Not Found: method not found")
        try:
            result = await handler(params) if handler else True
        except ApiError as err:
            return self._error(err.status, err.description)
        for delay in self._delays:
            if delay[0] == method:
                delay[2] -= 1
                if delay[2] <= 0:
                    self._delays.remove(delay)
                await asyncio.sleep(delay[1])
                break
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        path = request.match_info["path"]
        file_id = next((f for f, p in self.file_paths.items() if p == path), path.rsplit("/", 1)[-1])
        return web.Response(body=self.files.get(file_id, _PLACEHOLDER_FILE))

    # ---------------------------------------------------------------- Bot API methods
    async def _api_getMe(self, params: JSONDict) -> JSONDict:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    async def _api_getUpdates(self, params: JSONDict) -> list[JSONDict]:
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self.updates = self.updates[offset:]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        allowed = params.get("allowed_updates") or []
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older long-poll, which then reports a conflict
        deadline = asyncio.get_running_loop().time() + min(float(params.get("timeout") or 0), 60)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            pending = [u for u in self.updates if self._deliverable(u, allowed)]
            if pending or self._closing or not await self._wait_change(deadline):
                return pending[:limit]

    async def _api_deleteWebhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    async def _api_getWebhookInfo(self, params: JSONDict) -> JSONDict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    async def _api_setMyCommands(self, params: JSONDict) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    async def _api_deleteMyCommands(self, params: JSONDict) -> bool:
        self.commands = []
        return True

    async def _api_getMyCommands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands

    async def _api_getFile(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": f"u_{file_id}",
                "file_size": len(self.files.get(file_id, _PLACEHOLDER_FILE)),
                "file_path": self.file_paths.setdefault(file_id, f"photos/{file_id}.jpg")}

    def _photo_sizes(self, file_id: str) -> list[JSONDict]:
        return [{"file_id": f"{file_id}_s", "file_unique_id": f"u_{file_id}_s", "width": 90,
                 "height": 67, "file_size": 1200},
                {"file_id": file_id, "file_unique_id": f"u_{file_id}", "width": 1280,
                 "height": 960, "file_size": 98000}]

    def _outgoing(self, method: str, params: JSONDict, body: JSONDict,
                  photo: str | None = None) -> JSONDict:
        """Validate common params, store and record a bot message; return it as a Message."""
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        markup = params.get("reply_markup")
        if method.startswith("edit"):
            message_id = int(params.get("message_id") or 0)
            old = self._messages.get((chat_id, message_id))
            if old and old.get("text") == body.get("text") and old.get("reply_markup") == markup:
                raise ApiError(400, "Bad Request: message is not modified: specified new "
                                    "message content and reply markup are exactly the same")
            body["edit_date"] = int(time.time())
        else:
            message_id, self._next_message_id = self._next_message_id, self._next_message_id + 1
        chat = self._chats.get(chat_id) or self._chat(chat_id, "private" if chat_id > 0 else "supergroup")
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat,
                   "from": self.bot_user, **body}
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        link = params.get("link_preview_options")
        self.sent.append(SentMessage(
            method, chat_id, body.get("text", body.get("caption")),
            markup if isinstance(markup, dict) else None, params.get("parse_mode"),
            link if isinstance(link, dict) else None, photo, message_id, params))
        self._notify()
        return message

    async def _api_sendMessage(self, params: JSONDict) -> JSONDict:
        text = str(params.get("text") or "")
        return self._outgoing("sendMessage", params, {"text": text})

    async def _api_sendPhoto(self, params: JSONDict) -> JSONDict:
        photo = params.get("photo")
        file_id = photo if isinstance(photo, str) and photo else f"uploaded_{self._next_message_id}"
        if isinstance(photo, bytes):
            self.files[file_id] = photo
        caption = str(params.get("caption") or "")
        body: JSONDict = {"photo": self._photo_sizes(file_id)}
        if caption:
            body["caption"] = caption
        return self._outgoing("sendPhoto", params, body, photo=file_id)

    def _file_sent(self, method: str, field: str, params: JSONDict, limit: int) -> tuple[str, JSONDict]:
        """A file sent by id or uploaded (multipart, kept in ``files``), as Telegram's size limits allow."""
        value = params.get(field)
        if isinstance(value, bytes):
            if len(value) > limit:
                raise ApiError(413, "Request Entity Too Large")
            file_id = f"uploaded_{field}_{self._next_message_id}"
            self.files[file_id] = value
            return file_id, {"file_id": file_id, "file_unique_id": f"u_{file_id}", "file_size": len(value)}
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        return value, {"file_id": value, "file_unique_id": f"u_{value}"}

    async def _send_file(self, method: str, field: str, params: JSONDict, extra: JSONDict) -> JSONDict:
        file_id, described = self._file_sent(method, field, params, 50 * 1024 * 1024)
        body: JSONDict = {field: {**described, **extra}}
        if caption := str(params.get("caption") or ""):
            body["caption"] = caption
        return self._outgoing(method, params, body, photo=file_id)

    async def _api_sendVoice(self, params: JSONDict) -> JSONDict:
        return await self._send_file("sendVoice", "voice", params, {"duration": 4})

    async def _api_sendAudio(self, params: JSONDict) -> JSONDict:
        return await self._send_file("sendAudio", "audio", params, {"duration": 4})

    async def _api_sendDocument(self, params: JSONDict) -> JSONDict:
        return await self._send_file("sendDocument", "document", params, {})

    async def _api_sendLocation(self, params: JSONDict) -> JSONDict:
        location = {"latitude": float(params["latitude"]), "longitude": float(params["longitude"])}
        return self._outgoing("sendLocation", params, {"location": location})

    async def _api_editMessageText(self, params: JSONDict) -> JSONDict | bool:
        text = str(params.get("text") or "")
        if params.get("inline_message_id"):
            return True
        return self._outgoing("editMessageText", params, {"text": text})

    async def _api_editMessageReplyMarkup(self, params: JSONDict) -> JSONDict | bool:
        chat_id, message_id = params.get("chat_id"), int(params.get("message_id") or 0)
        if params.get("inline_message_id") or not isinstance(chat_id, int):
            return True
        message = self._messages.get((chat_id, message_id)) or {
            "message_id": message_id, "date": int(time.time()), "from": self.bot_user,
            "text": "…", "chat": self._chats.get(chat_id) or self._chat(chat_id, "private")}
        message = {k: v for k, v in message.items() if k != "reply_markup"}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        return message
