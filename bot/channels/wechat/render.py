"""Replies as WeChat text: numbered options, safe links, within WeChat's 2048-byte limit."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.texts import Texts
from handlers.types import Reply

TEXT_LIMIT_BYTES = 2048


def escape(text: str) -> str:
    """WeChat turns <a href> in a text message into a link; residents' text must stay plain."""
    return text.replace("<", "＜").replace(">", "＞")


def link_line(url: str, label: str) -> str:
    """Plain, like every other line: WeChat makes a bare URL clickable, and a rendered piece may
    be pushed again later, where markup would be escaped twice."""
    return f"{escape(label)}：{escape(url)}" if label else escape(url)


def choose_line(texts: Texts, count: int) -> str:
    if count == 1:
        return texts.t("wechat_choose_one")
    return texts.t("wechat_choose", first=1, last=count)


def split_utf8(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Pieces of at most `limit` bytes, cut at line ends where possible, never inside a character."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # one line longer than a message: cut at characters
            head = _prefix_within(line, limit - len(current.encode()))
            if not head:
                pieces.append(current)
                current = ""
                continue
            pieces.append(current + head)
            current, line = "", line[len(head):]
        if len((current + line).encode()) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current or not pieces:
        pieces.append(current)
    return [piece.rstrip("\r\n") for piece in pieces if piece.strip()] or [""]


# Room left in a WeChat message for the numbered options after the text.
ROW_TEXT_BUDGET = TEXT_LIMIT_BYTES - 400


def _prefix_within(text: str, budget: int) -> str:
    used = 0
    for index, char in enumerate(text):
        used += len(char.encode())
        if used > budget:
            return text[:index]
    return text


@dataclass(frozen=True)
class Rendered:
    """Text pieces to send in order, and the options their numbers stand for."""

    pieces: tuple[str, ...]
    options: tuple[tuple[str, str], ...]


def render_texts(replies: list[Reply], texts: Texts) -> Rendered:
    """Several replies as one message: texts in order, then one numbered list of all options."""
    blocks: list[str] = []
    options: list[tuple[str, str]] = []
    for reply in replies:
        block = escape(reply.text)
        if reply.link:
            block = f"{block}\n{link_line(reply.link, reply.link_label)}"
        blocks.append(block)
        options += [(o.label, o.data) for o in reply.options]
    if options:
        listing = "\n".join(f"{n}. {escape(label)}" for n, (label, _) in enumerate(options, 1))
        blocks.append(f"{listing}\n{choose_line(texts, len(options))}")
    return Rendered(tuple(split_utf8("\n\n".join(b for b in blocks if b))), tuple(options))


def msgmenu_payload(openid: str, text: str, labels: list[str], ids: list[int]) -> dict:
    """Clickable options (客服消息 msgmenu); a tap comes back as text with bizmsgmenuid."""
    return {
        "touser": openid,
        "msgtype": "msgmenu",
        "msgmenu": {
            "head_content": text,
            "list": [{"id": str(item_id), "content": label} for item_id, label in zip(ids, labels, strict=True)],
            "tail_content": "",
        },
    }


def text_payload(openid: str, text: str) -> dict:
    return {"touser": openid, "msgtype": "text", "text": {"content": text}}


def image_payload(openid: str, media_id: str) -> dict:
    return {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}


def voice_payload(openid: str, media_id: str) -> dict:
    return {"touser": openid, "msgtype": "voice", "voice": {"media_id": media_id}}


def template_payload(openid: str, template_id: str, reply: Reply, ticket_id: int | None,
                     at: str) -> dict:
    """A template message (模板消息) for when the customer-service window is closed."""
    first, _, rest = reply.text.partition("\n")
    return {
        "touser": openid,
        "template_id": template_id,
        "data": {
            "first": {"value": first[:100]},
            "keyword1": {"value": f"#{ticket_id}" if ticket_id else "-"},
            "keyword2": {"value": at},
            "remark": {"value": rest[:200]},
        },
    }
