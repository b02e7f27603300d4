"""The fake Bot API server speaks the protocol closely enough for a real PTB 22 ``Bot``."""

from __future__ import annotations

import asyncio
import datetime as dtm
import sys
import warnings
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TimedOut,
)

from tests.fakes.telegram_api import FakeTelegramAPI

USER = 5001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramAPI]:
    api = FakeTelegramAPI()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
    api.assert_valid_requests()  # a test sending invalid requests on purpose declares them


@pytest.fixture
async def bot(fake: FakeTelegramAPI) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as client:
        yield client


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == 123456
    assert me.username == "weifengshan_bot" and me.first_name == "微丰山"
    assert bot.username == "weifengshan_bot"


async def test_wrong_token_and_unknown_method(fake: FakeTelegramAPI) -> None:
    fake.expect_violations("^Not Found$")
    with pytest.raises(InvalidToken, match="rejected"):  # PTB's wording for a 401
        async with Bot("999:WRONG", base_url=f"{fake.url}/bot"):
            pass
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as client:
        with pytest.raises(EndPointNotFound, match="noSuchMethod"):  # PTB's wording for a 404
            await client.do_api_request("noSuchMethod")


async def test_push_text_arrives_with_command_entity(fake: FakeTelegramAPI, bot: Bot) -> None:
    update_id = fake.push_text(USER, "/start hello")
    assert update_id == 1
    [update] = await bot.get_updates(timeout=0)
    assert update.update_id == 1
    assert update.message.text == "/start hello"
    assert update.effective_chat.id == USER and update.effective_chat.type == "private"
    assert update.effective_user.id == USER
    [entity] = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
    assert update.message.parse_entity(entity) == "/start"


async def test_offset_confirms_and_unconfirmed_updates_are_redelivered(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    first, second = fake.push_text(USER, "a"), fake.push_text(USER, "b")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first, second]
    # A client restarting without an offset sees the unconfirmed updates again.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=second, timeout=0)] == [second]
    assert fake.confirmed_offset == second
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    assert fake.confirmed_offset == second + 1 and fake.updates == []
    fake.push_text(USER, "c")
    assert [u.update_id for u in await bot.get_updates(timeout=0, limit=1)] == [second + 1]


async def test_long_poll_wakes_on_push(fake: FakeTelegramAPI, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    fake.push_text(USER, "wake up")
    updates = await asyncio.wait_for(poll, 1.5)
    assert [u.message.text for u in updates] == ["wake up"]
    assert loop.time() - started < 1.5


async def test_long_poll_returns_empty_after_timeout(bot: Bot) -> None:
    assert await asyncio.wait_for(bot.get_updates(timeout=1), 3) == ()


async def test_send_message_records_markup_and_link_preview(
    fake: FakeTelegramAPI, bot: Bot
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("报修", callback_data="repair:1")]])
    message = await bot.send_message(
        str(USER), "你好 *居民*", reply_markup=markup, parse_mode="Markdown",
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert message.text == "你好 *居民*" and message.chat.id == USER
    assert message.from_user.id == 123456 and message.reply_markup == markup
    sent = await fake.wait_for(lambda m: m.chat_id == USER)
    assert sent.method == "sendMessage" and sent.message_id == message.message_id
    assert sent.reply_markup == {
        "inline_keyboard": [[{"text": "报修", "callback_data": "repair:1"}]]
    }
    assert sent.link_preview_options == {"is_disabled": True}
    assert sent.parse_mode == "Markdown" and sent.buttons[0]["callback_data"] == "repair:1"
    assert fake.messages_to(USER) == [sent] and fake.messages_to(USER + 1) == []
    second = await bot.send_message(-100123, "群消息")
    assert second.chat.type == "supergroup" and second.message_id > message.message_id


async def test_edit_photo_location_and_commands(fake: FakeTelegramAPI, bot: Bot) -> None:
    message = await bot.send_message(USER, "v1")
    edited = await bot.edit_message_text("v2", chat_id=USER, message_id=message.message_id)
    assert edited.text == "v2" and edited.message_id == message.message_id
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await bot.edit_message_text("v2", chat_id=USER, message_id=message.message_id)
    photo = await bot.send_photo(USER, "photo-file-1", caption="图")
    assert photo.photo[-1].file_id == "photo-file-1" and photo.caption == "图"
    uploaded = await bot.send_photo(USER, b"\x89PNG fake bytes")
    location = await bot.send_location(USER, latitude=31.2, longitude=121.5)
    assert location.location.latitude == pytest.approx(31.2)
    assert [m.method for m in fake.messages_to(USER)] == [
        "sendMessage", "editMessageText", "sendPhoto", "sendPhoto", "sendLocation"]
    assert fake.sent[2].photo == "photo-file-1" and fake.sent[2].text == "图"
    assert fake.files[fake.sent[3].photo] == b"\x89PNG fake bytes"
    assert uploaded.photo[-1].file_id == fake.sent[3].photo
    assert await bot.set_my_commands([("start", "开始")]) is True
    assert fake.commands == [{"command": "start", "description": "开始"}]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.answer_callback_query("42") is True
    assert (await fake.wait_for_call("answerCallbackQuery"))["callback_query_id"] == "42"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_429_raises_retry_after(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "hi")
    # PTB 22.8: int seconds (with a PTBDeprecationWarning) unless PTB_TIMEDELTA=1 -> timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        retry_after = info.value.retry_after
    if isinstance(retry_after, dtm.timedelta):
        retry_after = retry_after.total_seconds()
    assert retry_after == 3
    assert fake.sent == [] and fake.calls[-1][0] == "sendMessage"
    await bot.send_message(USER, "hi")  # only the next call failed
    assert len(fake.sent) == 1


async def test_fail_next_403_for_one_chat_only(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=403, chat_id=USER, times=2)
    await bot.send_message(USER + 1, "other chat is fine")
    for _ in range(2):
        with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
            await bot.send_message(USER, "hi")
    await bot.send_message(USER, "hi")
    assert [m.chat_id for m in fake.sent] == [USER + 1, USER]


async def test_bad_requests(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.expect_violations("message is too long", "message text is empty", "BUTTON_DATA_INVALID")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(USER, "字" * 4097)
    await bot.send_message(USER, "字" * 4096)
    await bot.send_message(USER, "<b>" + "字" * 4096 + "</b>", parse_mode="HTML")  # markup is free
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(USER, "")
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "buttons", reply_markup=long_data)
    fake.fail_next("sendMessage", status=400)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(USER, "x")
    assert len(fake.sent) == 2


async def test_second_poll_terminates_first_with_conflict(fake: FakeTelegramAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    # PTB keeps one connection for getUpdates per Bot, so the "second instance" is a second Bot.
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="(?i)terminated by other getUpdates"):
        await asyncio.wait_for(first, 1)


async def test_get_file_downloads_registered_bytes(fake: FakeTelegramAPI) -> None:
    fake.files["AgAC-photo"] = b"jpeg bytes"
    async with Bot(fake.token, base_url=f"{fake.url}/bot", base_file_url=fake.file_url) as bot:
        file = await bot.get_file("AgAC-photo")
        assert bytes(await file.download_as_bytearray()) == b"jpeg bytes"


async def test_delay_next_times_out_client_but_records(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.delay_next("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "slow", read_timeout=0.1)
    assert fake.sent[0].text == "slow"


async def test_push_callback_and_photo_and_location(fake: FakeTelegramAPI, bot: Bot) -> None:
    sent = await bot.send_message(USER, "选择", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("是", callback_data="yes")]]))
    fake.push_callback(USER, "yes", message_id=sent.message_id)
    fake.push_photo(USER, "AgAC-photo", caption="漏水")
    fake.push_location(USER, 31.23, 121.47)
    fake.push_text(USER, "/help@weifengshan_bot", chat_id=-100777, chat_type="supergroup")
    callback, photo, location, group = await bot.get_updates(timeout=0)
    query = callback.callback_query
    assert query.data == "yes" and query.from_user.id == USER
    assert query.message.message_id == sent.message_id and query.message.chat.id == USER
    assert query.message.reply_markup.inline_keyboard[0][0].callback_data == "yes"
    assert photo.message.photo[-1].file_id == "AgAC-photo" and len(photo.message.photo) >= 2
    assert photo.message.caption == "漏水"
    assert location.message.location.longitude == pytest.approx(121.47)
    assert group.effective_chat.type == "supergroup" and group.effective_chat.id == -100777
    assert group.message.entities[0].length == len("/help@weifengshan_bot")
    raw_id = fake.push_raw({"message": {"message_id": 99, "date": 0,
                                        "chat": {"id": USER, "type": "private"}, "text": "r"}})
    assert raw_id == group.update_id + 1


async def test_wait_for_times_out_with_listing(fake: FakeTelegramAPI, bot: Bot) -> None:
    await bot.send_message(USER, "only this")
    with pytest.raises(AssertionError, match="only this"):
        await fake.wait_for(lambda m: m.text == "never", timeout=0.1)
    waiter = asyncio.create_task(fake.wait_for(lambda m: m.text == "later", timeout=2))
    await asyncio.sleep(0.05)
    await bot.send_message(USER, "later")
    assert (await asyncio.wait_for(waiter, 1)).text == "later"


async def test_json_body_and_subprocess_client(fake: FakeTelegramAPI) -> None:
    """A child process talks real HTTP to the fake (the bot under test may be a subprocess)."""
    script = (
        "import asyncio, sys\n"
        "from telegram import Bot\n"
        "async def main():\n"
        "    async with Bot(sys.argv[1], base_url=sys.argv[2]) as bot:\n"
        "        [u] = await bot.get_updates(timeout=2)\n"
        "        await bot.send_message(u.effective_chat.id, 'echo: ' + u.message.text)\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, fake.token, f"{fake.url}/bot")
    fake.push_text(USER, "from parent")
    sent = await fake.wait_for(lambda m: m.text == "echo: from parent", timeout=5)
    assert sent.chat_id == USER
    assert await asyncio.wait_for(proc.wait(), 5) == 0
    async with aiohttp.ClientSession() as session:
        payload = {"chat_id": str(USER), "text": "json body",
                   "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}}
        async with session.post(f"{fake.url}/bot{fake.token}/sendMessage", json=payload) as resp:
            body = await resp.json()
    assert resp.status == 200 and body["result"]["text"] == "json body"
    assert fake.sent[-1].chat_id == USER and fake.sent[-1].buttons == [{"text": "a", "callback_data": "b"}]


async def test_voice_audio_and_documents_by_id_or_upload_and_their_download(fake: FakeTelegramAPI) -> None:
    """Issue 13: what the media path uses — getFile gives a voice note its .oga path, the file
    download serves its bytes, and sendVoice/sendAudio/sendDocument take a file id or a
    multipart upload (kept in ``files``)."""
    async with Bot(fake.token, base_url=f"{fake.url}/bot", base_file_url=fake.file_url) as bot:
        await _voice_audio_and_documents(fake, bot)


async def _voice_audio_and_documents(fake: FakeTelegramAPI, bot: Bot) -> None:
    fake.push_voice(USER, "voice-1", b"OggS voice bytes")
    file = await bot.get_file("voice-1")
    assert file.file_path is not None and file.file_path.endswith("voice/voice-1.oga")
    assert bytes(await file.download_as_bytearray()) == b"OggS voice bytes"
    voice = await bot.send_voice(USER, "voice-1", caption="语音")
    assert voice.voice.file_id == "voice-1" and voice.caption == "语音"
    await bot.send_voice(USER, InputFile(b"OggS uploaded", filename="v.ogg"))
    await bot.send_audio(USER, "audio-1")
    await bot.send_document(USER, InputFile(b"#!AMR\n", filename="voice.amr"))
    sent = fake.messages_to(USER)
    assert [m.method for m in sent] == ["sendVoice", "sendVoice", "sendAudio", "sendDocument"]
    assert fake.files[sent[1].photo or ""] == b"OggS uploaded" and fake.files[sent[3].photo or ""] == b"#!AMR\n"
    assert sent[2].photo == "audio-1"
