"""Checks on a WeChat callback before anything is stored: signature, freshness, safe XML, AES."""

from __future__ import annotations

import hashlib
import heapq
import hmac
from dataclasses import dataclass
from xml.parsers import expat

from wechatpy.crypto import PrpCrypto, WeChatCrypto

MAX_BODY = 64 * 1024
MAX_DEPTH = 6  # WeChat's deepest message (SendPicsInfo/PicList/item/PicMd5Sum) is 4 levels
MAX_ELEMENTS = 200
MAX_CLOCK_SKEW = 300
MAX_NONCES = 100_000  # far above WeChat's traffic in one 300 s window; a cap, not a working size


class Refused(Exception):
    """The request is not a genuine, well-formed WeChat callback; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature_of(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(expected_parts: tuple[str, ...], given: str) -> None:
    if not given or not hmac.compare_digest(signature_of(*expected_parts), given.lower()):
        raise Refused(403, "bad signature")


def check_fresh(timestamp: str, now: float) -> None:
    """A replayed callback is refused: WeChat's timestamp must be within 5 minutes of ours."""
    if not (timestamp.isascii() and timestamp.isdigit()) or abs(int(timestamp) - now) > MAX_CLOCK_SKEW:
        raise Refused(403, "stale or missing timestamp")


class NonceMemory:
    """Nonces of signed callbacks within the freshness window, each with a digest of its body.

    In plain mode the signature covers only token, timestamp and nonce, so a query string seen
    once (in a proxy log) would sign any body for 300 s. WeChat's own retries repeat the query
    and the body: a repeat with the same body passes (the inbox answers it as a duplicate), one
    with another body is refused. Only callbacks whose signature holds are remembered, so the
    memory cannot be filled by strangers; entries leave when their timestamp can no longer pass
    the freshness check, and past MAX_NONCES the oldest timestamps go first. It lives in memory:
    a restart forgets it (run compatible or safe mode, where the body is signed too).
    """

    def __init__(self, limit: int = MAX_NONCES) -> None:
        self.limit = limit
        self._bodies: dict[tuple[int, str], str] = {}
        self._expiry: list[tuple[int, str]] = []  # heap of (timestamp, nonce)

    def __len__(self) -> int:
        return len(self._bodies)

    def check(self, timestamp: str, nonce: str, body: bytes, now: float) -> None:
        """Remember this callback; Refused(403) if its nonce came with another body."""
        while self._expiry and (self._expiry[0][0] + MAX_CLOCK_SKEW < now or len(self._bodies) >= self.limit):
            self._bodies.pop(heapq.heappop(self._expiry), None)
        key = (int(timestamp), nonce)
        digest = hashlib.sha256(body).hexdigest()
        seen = self._bodies.get(key)
        if seen is None:
            self._bodies[key] = digest
            heapq.heappush(self._expiry, key)
        elif not hmac.compare_digest(seen, digest):
            raise Refused(403, "nonce reused with a different body (replay)")


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The flat fields of <xml>...</xml>; DTDs, entities and deep or huge trees are refused.

    Read with expat directly, with the refusals defusedxml sets (a DTD, an entity declaration or
    an external entity raises) and the shape checked while parsing. defusedxml's ElementTree
    parser did the same through the pure-Python XMLParser and a whole tree, the largest cost of
    opening a callback after the network (docs/benchmarks.md, "Stop 15"). A field's text is the
    text before its first child element, as ElementTree's `text`.
    """
    raw = body.encode() if isinstance(body, str) else body
    head = raw[:MAX_BODY].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise Refused(400, "DTD not allowed")
    reader = _FlatFields()
    try:
        reader.parse(raw)
    except expat.ExpatError as exc:
        raise Refused(400, f"malformed XML: {expat.ErrorString(exc.code)}") from None
    except ValueError:  # an encoding expat cannot read (a multi-byte one such as GBK)
        raise Refused(400, "malformed XML: unsupported encoding") from None
    return reader.fields


class _FlatFields:
    """One document's <xml> children and their text, for parse_xml."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self._depth = 0
        self._elements = 0
        self._field = ""
        self._text: list[str] = []
        self._in_text = False  # inside a field, before its first child element

    def parse(self, raw: bytes) -> None:
        # A namespace separator makes a namespaced root ("urn:x xml") differ from "xml".
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.EntityDeclHandler = _refuse_entity
        parser.UnparsedEntityDeclHandler = _refuse_entity
        parser.ExternalEntityRefHandler = _refuse_entity
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        parser.Parse(raw, True)

    def _start(self, name: str, _attributes: dict[str, str]) -> None:
        self._depth += 1
        self._elements += 1
        if self._depth > MAX_DEPTH or self._elements > MAX_ELEMENTS:
            raise Refused(400, "XML too deep or too large")
        if self._depth == 1 and name != "xml":
            raise Refused(400, "root element is not <xml>")
        if self._depth == 2:
            self._field, self._text, self._in_text = name, [], True
        elif self._depth == 3:
            self._in_text = False

    def _end(self, _name: str) -> None:
        if self._depth == 2:
            self.fields[self._field] = "".join(self._text).strip()
            self._in_text = False
        self._depth -= 1

    def _data(self, data: str) -> None:
        if self._in_text:
            self._text.append(data)


def _refuse_dtd(*_: object) -> None:
    raise Refused(400, "DTD not allowed")


def _refuse_entity(*_: object) -> None:
    raise Refused(400, "entities not allowed")


@dataclass(frozen=True)
class CallbackParams:
    signature: str
    timestamp: str
    nonce: str
    msg_signature: str
    encrypt_type: str


class Cipher:
    """AES for compatible and safe modes, with wechatpy's crypto.

    One PrpCrypto for the account: its AES-CBC cipher (the IV is the key's first 16 bytes)
    holds no state between messages, and wechatpy's WeChatCrypto would build a new one for every
    message it opens or seals.
    """

    def __init__(self, token: str, aes_key: str, app_id: str) -> None:
        self._prp = PrpCrypto(WeChatCrypto(token, aes_key, app_id).key)
        self.token = token
        self.app_id = app_id

    def decrypt(self, encrypted: str, params: CallbackParams) -> str:
        check_signature((self.token, params.timestamp, params.nonce, encrypted), params.msg_signature)
        try:
            return str(self._prp.decrypt(encrypted, self.app_id))
        except Exception as exc:  # wrong app id, bad padding, bad base64: all mean "not for us"
            raise Refused(400, f"cannot decrypt: {type(exc).__name__}") from None

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """The passive reply sealed as WeChat's envelope (as wechatpy's encrypt_message writes it)."""
        encrypted = self._prp.encrypt(xml, self.app_id).decode()
        return ENVELOPE.format(encrypt=encrypted, signature=signature_of(self.token, timestamp, nonce, encrypted),
                               timestamp=timestamp, nonce=nonce)


ENVELOPE = ("<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
            "<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
            "<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>")
