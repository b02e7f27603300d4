"""Secrets and switches from the environment, checked against what the config asks for."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.config import Config, ConfigError
from bot.config_channels import TelegramMode, WeChatSecurity
from handlers.domain.base import Strict


class Settings(Strict):
    """What the bot needs from outside the YAML: secrets come from the environment only."""

    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    wechat_token: str = ""
    wechat_aes_key: str = ""
    wechat_app_secret: str = ""
    wecom_robot_keys: dict[str, str] = {}


WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def load_settings(environ: Mapping[str, str], config: Config) -> Settings:
    """Secrets from the environment, checked against what the config asks for."""
    settings = Settings(
        telegram_token=environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
        telegram_webhook_secret=environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
        wechat_token=environ.get("WECHAT_TOKEN", "").strip(),
        wechat_aes_key=environ.get("WECHAT_ENCODING_AES_KEY", "").strip(),
        wechat_app_secret=environ.get("WECHAT_APP_SECRET", "").strip(),
        wecom_robot_keys={r.id: environ.get(r.key_env, "").strip() for r in config.wecom.robots
                          if environ.get(r.key_env, "").strip()},
    )
    _check_wechat(settings, config)
    if settings.telegram_token and config.telegram.mode is TelegramMode.WEBHOOK and not (
        WEBHOOK_SECRET_PATTERN.match(settings.telegram_webhook_secret)
    ):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: webhook mode needs 16-256 characters of A-Z a-z 0-9 _ -")
    return settings


WECHAT_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9]{3,32}$")
AES_KEY_PATTERN = re.compile(r"^[A-Za-z0-9]{43}$")


def wechat_enabled(settings: Settings, config: Config) -> bool:
    return bool(config.wechat.app_id and settings.wechat_token)


def _check_wechat(settings: Settings, config: Config) -> None:
    if not wechat_enabled(settings, config):
        return
    if not WECHAT_TOKEN_PATTERN.match(settings.wechat_token):
        raise ConfigError("WECHAT_TOKEN: 3-32 letters or digits, as set on the WeChat platform")
    if config.wechat.security is not WeChatSecurity.PLAIN and not AES_KEY_PATTERN.match(settings.wechat_aes_key):
        raise ConfigError("WECHAT_ENCODING_AES_KEY: compatible and safe modes need the 43-character key")
    if not settings.wechat_app_secret:
        raise ConfigError("WECHAT_APP_SECRET: needed for pushes (customer-service and template messages)")
