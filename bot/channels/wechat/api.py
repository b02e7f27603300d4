"""The WeChat server API: one access-token holder and JSON calls with WeChat's error codes."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from storage import state
from storage.clock import Clock, parse_stamp, stamp
from storage.db import Database

log = logging.getLogger(__name__)

TOKEN_STATE_KEY = "wechat:access_token"
REFRESH_MARGIN = timedelta(minutes=5)  # refresh before expiry, never with a call in flight on a dead token
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class WeChatHttpError(Exception):
    """WeChat (or a proxy) answered with an HTTP error status or a body that is not JSON."""


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: datetime


class WeChatAPI:
    """Calls https://api.weixin.qq.com (or a proxy) with a shared, persisted access token."""

    def __init__(self, session: aiohttp.ClientSession, db: Database, clock: Clock, base_url: str,
                 app_id: str, app_secret: str, timeout: float = 5.0) -> None:
        self.session = session
        self.db = db
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._lock = asyncio.Lock()
        self._token: AccessToken | None = None

    async def _load_token(self) -> AccessToken | None:
        async with self.db.read() as conn:
            raw = await state.get_state(conn, TOKEN_STATE_KEY)
        if not raw:
            return None
        data = json.loads(raw)
        return AccessToken(data["value"], parse_stamp(data["expires_at"]))

    def _fresh(self, token: AccessToken | None) -> bool:
        return token is not None and token.expires_at - REFRESH_MARGIN > self.clock.now()

    async def access_token(self, stale: str = "") -> str:
        """A valid token; `stale` is one WeChat just rejected, so it is replaced even if not expired."""
        token = self._token
        if self._fresh(token) and token is not None and token.value != stale:
            return token.value
        async with self._lock:  # one refresh at a time: a second one would invalidate the first
            if self._token is None:
                self._token = await self._load_token()
            token = self._token
            if self._fresh(token) and token is not None and token.value != stale:
                return token.value
            self._token = await self._fetch_token()
            return self._token.value

    async def _fetch_token(self) -> AccessToken:
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        result = await self._request("GET", "/cgi-bin/token", params, None)
        if "access_token" not in result:
            raise WeChatError(int(result.get("errcode", -1)), str(result.get("errmsg", "no access_token")))
        lifetime = int(result.get("expires_in", 7200))
        token = AccessToken(str(result["access_token"]), self.clock.now() + timedelta(seconds=lifetime))
        async with self.db.transaction() as conn:
            await state.set_state(conn, TOKEN_STATE_KEY, json.dumps(
                {"value": token.value, "expires_at": stamp(token.expires_at)}))
        log.info("wechat: new access token, valid for %d s", lifetime)
        return token

    async def _request(self, method: str, path: str, params: dict[str, str],
                       payload: dict[str, Any] | None) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else None
        async with self.session.request(method, f"{self.base_url}{path}", params=params, data=body,
                                        headers=headers, timeout=self._timeout) as response:
            if response.status >= 400:
                raise WeChatHttpError(f"HTTP {response.status}")
            text = await response.text()
        return _json_object(text)

    async def get_file(self, path: str, params: dict[str, str]) -> tuple[bytes, str, str]:
        """GET a file with the access token (media/get): (bytes, content type, file name). WeChat
        answers an error as JSON instead of the file; a rejected token is refreshed once."""
        token = ""
        for attempt in range(2):
            token = await self.access_token(stale=token)
            async with self.session.get(f"{self.base_url}{path}", params={**params, "access_token": token},
                                        timeout=self._timeout) as response:
                if response.status >= 400:
                    raise WeChatHttpError(f"HTTP {response.status}")
                data = await response.read()
                content_type = response.headers.get("Content-Type", "")
                disposition = response.headers.get("Content-Disposition", "")
            if not content_type.startswith(("application/json", "text/")):
                name = disposition.rpartition("filename=")[2].strip('"; ') or "file"
                return data, content_type, name
            code, message = _error_of(data)
            if code not in TOKEN_ERRORS or attempt:
                raise WeChatError(code, message)
            log.warning("wechat: access token rejected (%d); refreshing once", code)
        raise AssertionError("unreachable")

    async def upload(self, path: str, params: dict[str, str], field: str, data: bytes, filename: str,
                     content_type: str) -> dict[str, Any]:
        """POST a file as multipart form data (media/upload) with the access token."""
        token = ""
        for attempt in range(2):
            token = await self.access_token(stale=token)
            form = aiohttp.FormData()
            form.add_field(field, data, filename=filename, content_type=content_type)
            async with self.session.post(f"{self.base_url}{path}", params={**params, "access_token": token},
                                         data=form, timeout=self._timeout) as response:
                if response.status >= 400:
                    raise WeChatHttpError(f"HTTP {response.status}")
                body = await response.read()
            code, message = _error_of(body)
            if code == 0:
                return json.loads(body)
            if code not in TOKEN_ERRORS or attempt:
                raise WeChatError(code, message)
            log.warning("wechat: access token rejected (%d); refreshing once", code)
        raise AssertionError("unreachable")

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with the access token; a rejected token is refreshed once and the call retried once."""
        token = await self.access_token()
        result = await self._request("POST", path, {"access_token": token}, payload)
        code = int(result.get("errcode", 0) or 0)
        if code in TOKEN_ERRORS:
            log.warning("wechat: access token rejected (%d); refreshing once", code)
            token = await self.access_token(stale=token)
            result = await self._request("POST", path, {"access_token": token}, payload)
            code = int(result.get("errcode", 0) or 0)
        if code != 0:
            raise WeChatError(code, str(result.get("errmsg", "")))
        return result


def _json_object(body: str | bytes) -> dict[str, Any]:
    """A JSON object answer; anything else is the platform failing (retried by the caller)."""
    try:
        result = json.loads(body)
    except ValueError as exc:
        raise WeChatHttpError("answer is not JSON") from exc
    if not isinstance(result, dict):
        raise WeChatHttpError("answer is not a JSON object")
    return result


def _error_of(body: bytes) -> tuple[int, str]:
    """(errcode, errmsg) of a JSON answer; 0 for one without an error."""
    result = _json_object(body)
    return int(result.get("errcode", 0) or 0), str(result.get("errmsg", ""))
