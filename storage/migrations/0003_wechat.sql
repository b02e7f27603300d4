-- WeChat official account: passive replies kept for platform retries, the customer-service
-- window per follower, the options last shown as a numbered list, msgmenu item ids.

ALTER TABLE inbox ADD COLUMN response TEXT;

CREATE TABLE wechat_windows (
    openid TEXT PRIMARY KEY,
    message_at TEXT,
    message_sent INTEGER NOT NULL DEFAULT 0,
    tap_at TEXT,
    tap_sent INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE wechat_choices (
    openid TEXT PRIMARY KEY,
    options TEXT NOT NULL,
    shown_at TEXT NOT NULL
);

CREATE TABLE wechat_menu_items (
    id INTEGER PRIMARY KEY,
    openid TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX wechat_menu_items_openid ON wechat_menu_items (openid, id);
