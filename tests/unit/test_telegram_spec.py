"""The fake Bot API refuses what the vendored Bot API 10.1 spec does not allow, as Telegram does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, EndPointNotFound

from tests.fakes.telegram_api import _TRUE_METHODS, FakeTelegramAPI
from tests.fakes.telegram_spec import SpecViolation, check_request, load_spec

USER = 5001


def markup(*rows: list[dict[str, Any]]) -> str:
    """An inline keyboard as PTB sends it: a JSON string in a form field."""
    return json.dumps({"inline_keyboard": list(rows)})


def commands(*pairs: tuple[str, str]) -> str:
    return json.dumps([{"command": c, "description": d} for c, d in pairs])


VALID: list[tuple[str, dict[str, Any]]] = [
    ("getMe", {}),
    ("sendMessage", {"chat_id": "5001", "text": "你好"}),
    ("sendmessage", {"chat_id": "-100123", "text": "x"}),  # method names are case-insensitive
    ("sendMessage", {"chat_id": "@channel", "text": "x", "disable_notification": "true"}),
    ("sendMessage", {"chat_id": 5001, "text": "json body", "protect_content": False,
                     "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}}),
    ("sendMessage", {"chat_id": "1", "text": "字" * 4096}),
    ("sendMessage", {"chat_id": "1", "text": "😀" * 2048}),  # 4096 UTF-16 units
    ("sendMessage", {"chat_id": "1", "text": "<b>" + "字" * 4096 + "</b>", "parse_mode": "HTML"}),
    ("sendMessage", {"chat_id": "1", "text": "x", "link_preview_options": '{"is_disabled": true}'}),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup(
        [{"text": "报修", "callback_data": "报" * 21}, {"text": "网页", "url": "https://example.org/a"}],
        [{"text": "群", "url": "tg://resolve?domain=x"}])}),  # 63 bytes of callback_data
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": json.dumps(
        {"keyboard": [[{"text": "报修"}, {"text": "我的"}]], "resize_keyboard": True, "is_persistent": True})}),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": '{"remove_keyboard": true}'}),
    ("sendPhoto", {"chat_id": "1", "photo": b"\x89PNG", "caption": "图" * 1024}),
    ("sendPhoto", {"chat_id": "1", "photo": "AgAC-file-id"}),
    ("sendLocation", {"chat_id": "1", "latitude": "31.2", "longitude": "121.5"}),
    ("editMessageText", {"chat_id": "1", "message_id": "7", "text": "v2"}),
    ("editMessageText", {"inline_message_id": "abc", "text": "v2"}),
    ("answerCallbackQuery", {"callback_query_id": "42", "text": "好" * 200}),
    ("setMyCommands", {"commands": commands(("start", "开始"), ("my_tickets2", "我" * 256))}),
    ("setMyCommands", {"commands": commands(("help", "帮助")), "scope": '{"type": "all_private_chats"}'}),
    ("setMyCommands", {"commands": commands(("help", "帮助")), "scope": '{"type": "chat", "chat_id": -100}'}),
    ("getUpdates", {"offset": "12", "limit": "100", "timeout": "25",
                    "allowed_updates": '["message", "callback_query", "my_chat_member"]'}),
    ("setWebhook", {"url": "https://bot.example/tg", "secret_token": "aZ_9-", "allowed_updates": "[]"}),
    ("sendMediaGroup", {"chat_id": "1", "attached1": b"jpeg", "media": json.dumps(
        [{"type": "photo", "media": "attach://attached1"}, {"type": "photo", "media": "file-id"}])}),
]

INVALID: list[tuple[str, dict[str, Any], int, str]] = [
    ("noSuchMethod", {}, 404, "Not Found"),
    ("sendMessage", {"chat_id": "1"}, 400, "Bad Request: message text is empty"),
    ("sendMessage", {"chat_id": "1", "text": ""}, 400, "Bad Request: message text is empty"),
    ("sendMessage", {"chat_id": "1", "text": " \n "}, 400, "Bad Request: message text is empty"),
    ("sendMessage", {"chat_id": "1", "text": "<b></b>", "parse_mode": "HTML"}, 400,
     "Bad Request: message text is empty"),
    ("sendMessage", {"text": "x"}, 400, "Bad Request: chat_id is empty"),
    ("sendMessage", {"chat_id": "1", "text": "字" * 4097}, 400, "Bad Request: message is too long"),
    ("sendMessage", {"chat_id": "1", "text": "😀" * 2049}, 400, "Bad Request: message is too long"),
    ("sendMessage", {"chat_id": "1", "text": "x", "txet": "y"}, 400,
     "Bad Request: txet: not a parameter of sendMessage"),
    ("sendMessage", {"chat_id": "1", "text": "x", "disable_notification": "yes"}, 400,
     "Bad Request: disable_notification: must be Boolean"),
    ("sendMessage", {"chat_id": "1", "text": "x", "parse_mode": "Markdown3"}, 400,
     "Bad Request: unsupported parse_mode"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": "{not json"}, 400,
     "Bad Request: reply_markup: must be InlineKeyboardMarkup or ReplyKeyboardMarkup or "
     "ReplyKeyboardRemove or ForceReply"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"text": "a", "callback_data": "d" * 65}])},
     400, "Bad Request: BUTTON_DATA_INVALID"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"text": "a", "callback_data": "报" * 22}])},
     400, "Bad Request: BUTTON_DATA_INVALID"),  # 66 bytes
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"text": "a", "callback_data": ""}])},
     400, "Bad Request: BUTTON_DATA_INVALID"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"text": "a", "callback_data": 7}])},
     400, "Bad Request: can't parse inline keyboard button: Field \"callback_data\" must be of type String"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"text": "a"}])}, 400,
     "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"callback_data": "a"}])}, 400,
     "Bad Request: can't parse inline keyboard button: Can't find field \"text\""),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"text": "a", "url": "example.org"}])},
     400, "Bad Request: BUTTON_URL_INVALID"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup(
        [{"text": "a", "url": "https://a.b", "callback_data": "c"}])}, 400,
     "Bad Request: reply_markup.inline_keyboard[0][0]: must use exactly one of callback_data, url"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": markup([{"text": "a", "callback": "c"}])}, 400,
     "Bad Request: reply_markup.inline_keyboard[0][0].callback: is not a field of InlineKeyboardButton"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": json.dumps(
        {"inline_keyboard": [{"text": "a", "callback_data": "b"}]})}, 400,  # a row, not rows
     "Bad Request: reply_markup.inline_keyboard[0]: must be Array of InlineKeyboardButton"),
    ("sendMessage", {"chat_id": "1", "text": "x", "reply_markup": json.dumps({"keyboard": [["报修"]]})}, 400,
     "Bad Request: reply_markup.keyboard[0][0]: must be of type KeyboardButton"),
    ("sendMessage", {"chat_id": "1", "text": "x", "link_preview_options": '{"is_disabled": "true"}'}, 400,
     "Bad Request: link_preview_options.is_disabled: must be of type Boolean"),
    ("sendPhoto", {"chat_id": "1", "photo": "id", "caption": "图" * 1025}, 400,
     "Bad Request: message caption is too long"),
    ("sendPhoto", {"chat_id": "1"}, 400, 'Bad Request: parameter "photo" is required'),
    ("sendPhoto", {"chat_id": "1", "photo": b"jpeg", "extra": b"jpeg"}, 400,
     "Bad Request: extra: not a parameter of sendPhoto"),  # an upload nothing attaches
    ("sendLocation", {"chat_id": "1", "latitude": "north", "longitude": "1"}, 400,
     "Bad Request: latitude: must be Float"),
    ("editMessageText", {"chat_id": "1", "message_id": "7"}, 400, "Bad Request: message text is empty"),
    ("editMessageText", {"chat_id": "1", "text": "v2"}, 400, 'Bad Request: parameter "message_id" is required'),
    ("answerCallbackQuery", {"text": "x"}, 400, 'Bad Request: parameter "callback_query_id" is required'),
    ("answerCallbackQuery", {"callback_query_id": "42", "text": "好" * 201}, 400, "Bad Request: MESSAGE_TOO_LONG"),
    ("setMyCommands", {}, 400, 'Bad Request: parameter "commands" is required'),
    ("setMyCommands", {"commands": commands(("Start", "开始"))}, 400, "Bad Request: BOT_COMMAND_INVALID"),
    ("setMyCommands", {"commands": commands(("my-tickets", "我的"))}, 400, "Bad Request: BOT_COMMAND_INVALID"),
    ("setMyCommands", {"commands": commands(("a" * 33, "x"))}, 400, "Bad Request: BOT_COMMAND_INVALID"),
    ("setMyCommands", {"commands": commands(("", "x"))}, 400, "Bad Request: BOT_COMMAND_INVALID"),
    ("setMyCommands", {"commands": commands(("start", ""))}, 400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
    ("setMyCommands", {"commands": commands(("start", "我" * 257))}, 400,
     "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
    ("setMyCommands", {"commands": commands(("start", "x")), "scope": '{"type": "chat"}'}, 400,
     "Bad Request: scope.chat_id: is required"),
    ("setMyCommands", {"commands": commands(("start", "x")), "scope": '{"type": "everyone"}'}, 400,
     "Bad Request: scope.type: must be one of default"),
    ("getUpdates", {"timeout": "0.5"}, 400, "Bad Request: timeout: must be Integer"),
    ("getUpdates", {"limit": "0"}, 400, "Bad Request: limit: must be between 1 and 100"),
    ("getUpdates", {"allowed_updates": '"message"'}, 400, "Bad Request: allowed_updates: must be Array of String"),
    ("getUpdates", {"allowed_updates": '["message", "my_chat_members"]'}, 400,
     'Bad Request: allowed_updates: unknown update type "my_chat_members"'),
    ("setWebhook", {"url": "https://x", "secret_token": "with space"}, 400,
     "Bad Request: secret_token: has characters not allowed"),
    ("deleteMessages", {"chat_id": "1", "message_ids": json.dumps(list(range(1, 102)))}, 400,
     "Bad Request: message_ids: must have 1-100 items"),
]


@pytest.mark.parametrize(("method", "params"), VALID, ids=[f"{i}-{m}" for i, (m, _) in enumerate(VALID)])
def test_valid_requests_pass(method: str, params: dict[str, Any]) -> None:
    check_request(method, params)


@pytest.mark.parametrize(("method", "params", "status", "description"), INVALID,
                         ids=[f"{i}-{m}" for i, (m, *_) in enumerate(INVALID)])
def test_invalid_requests_are_refused_as_telegram_does(
    method: str, params: dict[str, Any], status: int, description: str
) -> None:
    with pytest.raises(SpecViolation) as refused:
        check_request(method, params)
    assert (refused.value.status, refused.value.description) == (status, description)


def test_requests_are_read_per_their_spec_types() -> None:
    typed = check_request("sendMessage", {"chat_id": "5001", "text": "42", "disable_notification": "true",
                                          "reply_markup": markup([{"text": "a", "callback_data": "b"}])})
    assert typed == {"chat_id": 5001, "text": "42", "disable_notification": True,
                     "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}}


def test_every_method_the_fake_serves_is_in_the_spec() -> None:
    spec = load_spec()
    served = {name[len("_api_"):] for name in dir(FakeTelegramAPI) if name.startswith("_api_")}
    assert spec.version == "Bot API 10.1"
    assert sorted(m for m in served | _TRUE_METHODS if spec.method(m) != m) == []


async def test_too_long_callback_data_is_refused_over_http(fake: FakeTelegramAPI) -> None:
    """Through the real PTB Bot: 400, PTB raises BadRequest, nothing is sent, the refusal is kept."""
    from telegram import Bot

    fake.expect_violations("BUTTON_DATA_INVALID")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("报修", callback_data="报" * 22)]])
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as bot:
        with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):  # PTB capitalises it
            await bot.send_message(USER, "选择", reply_markup=keyboard)
    assert fake.sent == []
    [violation] = fake.violations
    assert (violation.method, violation.status) == ("sendMessage", 400)
    assert violation.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "报" * 22


async def test_an_undeclared_invalid_request_fails_the_test() -> None:
    """Leaving the fake (the `fake` fixture's teardown) raises when a request was invalid."""
    from telegram import Bot

    with pytest.raises(AssertionError, match=r"setMyCommands: 400 Bad Request: BOT_COMMAND_INVALID"):
        async with FakeTelegramAPI() as api, Bot(api.token, base_url=f"{api.url}/bot") as bot:
            with pytest.raises(BadRequest):
                await bot.set_my_commands([BotCommand("Report", "报修")])
            with pytest.raises(BadRequest, match="(?i)MESSAGE_TOO_LONG"):
                await bot.answer_callback_query("42", text="好" * 201)
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("sendMesage")
            assert [v.description for v in api.violations] == [
                "Bad Request: BOT_COMMAND_INVALID", "Bad Request: MESSAGE_TOO_LONG", "Not Found"]
            assert api.commands == []
