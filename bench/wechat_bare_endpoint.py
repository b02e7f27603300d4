"""Baseline for bench.wechat_callbacks: a bare aiohttp WeChat callback endpoint, no bot behind it.

    PYTHONPATH=. .venv/bin/python -m bench.wechat_bare_endpoint --port 0 --token T --aes-key K --app-id A

Per POST it does the work every safe-mode callback costs: check the timestamp and the URL
signature, read the body (capped at 64 KiB), verify msg_signature and decrypt with wechatpy's
crypto, parse the message, render a text passive reply and encrypt it. No storage, no handlers.
Prints `READY http://127.0.0.1:PORT` once it listens.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import secrets
import time

from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply

from bench.common import serve_until_stopped
from bot import event_loop

MAX_BODY = 64 * 1024
# About the size of the bot's typical answer (a prompt plus a short numbered list).
REPLY_TEXT = ("请选择要反映的问题类别：\n1. 水电维修\n2. 矛盾化解\n3. 环境卫生/垃圾分类\n4. 代充燃气\n"
              "5. 加装电梯\n6. 政策咨询\n7. 民情收集\n8. 其他\n9. 取消\n回复 1–9 选择")


def signed(token: str, timestamp: str, nonce: str, given: str) -> bool:
    expected = hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()
    return bool(given) and hmac.compare_digest(expected, given.lower())


def make_app(token: str, aes_key: str, app_id: str) -> web.Application:
    crypto = WeChatCrypto(token, aes_key, app_id)

    async def receive(request: web.Request) -> web.Response:
        query = request.query
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > 300:
            return web.Response(status=403)
        if not signed(token, timestamp, nonce, query.get("signature", "")):
            return web.Response(status=403)
        if (request.content_length or 0) > MAX_BODY:
            return web.Response(status=413)
        body = await request.read()
        try:
            xml = crypto.decrypt_message(body, query.get("msg_signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            return web.Response(status=403)
        message = parse_message(xml)
        reply = TextReply(source=message.target, target=message.source, content=REPLY_TEXT).render()
        encrypted = crypto.encrypt_message(reply, secrets.token_hex(8), timestamp)
        return web.Response(text=encrypted, content_type="application/xml")

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/wechat/callback", receive)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(port: int, token: str, aes_key: str, app_id: str) -> None:
    await serve_until_stopped(make_app(token, aes_key, app_id), port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", required=True)
    parser.add_argument("--aes-key", required=True)
    parser.add_argument("--app-id", required=True)
    args = parser.parse_args()
    # The bot's own loop (bot/event_loop.py): the baseline differs from the bot only in the bot.
    event_loop.run(serve(args.port, args.token, args.aes_key, args.app_id))


if __name__ == "__main__":
    main()
