"""Config of the channels and the process: Telegram, WeChat, WeCom robots, HTTP, storage."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from handlers.domain.base import Strict


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class HttpSettings(Strict):
    """The bot's own HTTP server (Telegram webhook, later WeChat callbacks, /healthz)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Serve /healthz even when no webhook or WeChat callback needs the server (polling only).
    health: bool = False
    # Where staff browsers reach this server (the workplace's sign-in links are built on it), e.g.
    # https://fengshan.example.cn behind a reverse proxy; empty: http://host:port. With https the
    # session cookie is Secure.
    public_url: str = Field(default="", pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$")
    # The workplace's map tiles (Leaflet), e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png;
    # empty: the map shows the point without tiles (nothing is fetched from elsewhere).
    map_tiles: str = Field(default="", pattern=r"^(https://[^\s]+)?$")
    map_attribution: str = ""

    def base_url(self) -> str:
        """The public URL, or this server's own address (a local trial)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class TelegramSettings(Strict):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    bot_username: str = ""
    poll_timeout: int = Field(default=25, ge=0, le=50)
    read_timeout: float = Field(default=10.0, gt=0, le=120)
    mode: TelegramMode = TelegramMode.POLLING
    webhook_path: str = Field(default="/telegram/webhook", pattern=r"^/[A-Za-z0-9/_-]*$")
    webhook_public_url: str = ""

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramSettings:
        if self.mode is TelegramMode.WEBHOOK and not self.webhook_public_url.startswith("https://"):
            raise ValueError("webhook mode needs webhook_public_url (an https:// URL Telegram can reach)")
        return self


class WeChatSecurity(StrEnum):
    """The message encryption mode chosen on the WeChat platform (明文 / 兼容 / 安全)."""

    PLAIN = "plain"
    COMPATIBLE = "compatible"
    SAFE = "safe"


class WeChatSettings(Strict):
    """The official account (公众号). Token, AES key and app secret come from the environment."""

    app_id: str = Field(default="", pattern=r"^(wx[0-9a-f]{16})?$")
    api_base_url: str = "https://api.weixin.qq.com"
    callback_path: str = Field(default="/wechat/callback", pattern=r"^/[A-Za-z0-9/_-]*$")
    security: WeChatSecurity = WeChatSecurity.SAFE
    # msgmenu (clickable options) needs the account's customer-service permission.
    msgmenu: bool = False
    # Notification kind (card, resident_notice, staff_notice, announcement) -> template id, used
    # when the customer-service window is closed.
    templates: dict[str, str] = {}
    # Announcements also go to the account's followers in the target area (by their reported
    # address; "all" reaches every follower): in the window, or by the announcement template.
    announce_to_followers: bool = False
    timeout: float = Field(default=5.0, gt=0, le=30)
    # WeChat waits 5 s for a passive reply; past this the answer is pushed instead.
    reply_deadline: float = Field(default=4.0, gt=0, lt=5)


class WeComRobot(Strict):
    """A 企业微信群机器人 posting into one neighbourhood group; its key is a secret."""

    id: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str
    key_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")
    community: str | None = None
    grid: str | None = None


class WeComSettings(Strict):
    api_base_url: str = "https://qyapi.weixin.qq.com"
    per_minute: int = Field(default=20, ge=1, le=20)
    robots: list[WeComRobot] = []


class StorageSettings(Strict):
    database: str = "data/fengshan.db"
    # postgresql://user@host:port/db selects PostgreSQL instead of the SQLite file above; the
    # password comes from FENGSHAN_DB_PASSWORD (or PGPASSWORD), never from this file.
    url: str | None = Field(default=None, pattern=r"^postgres(ql)?://[^:@/]+@[^@/]+/[A-Za-z0-9_-]+$")
    # Several instances on one PostgreSQL: how long a lease (the Telegram poller, each channel's
    # sender, the sweep and digest) lasts unrenewed — another instance takes over within this
    # plus a third of it after its holder dies. Renewed every third of it.
    lease_seconds: float = Field(default=30, ge=1, le=300)
