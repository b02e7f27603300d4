"""security.parse_xml on its own: what a callback body may hold, and the refusals (400) that do
not rest on its byte search for <!DOCTYPE, which a UTF-16 body slips past (expat's DTD handler
refuses it there)."""

import pytest

from bot.channels.wechat.security import MAX_DEPTH, MAX_ELEMENTS, Refused, parse_xml


def refused(body: bytes | str) -> str:
    with pytest.raises(Refused) as caught:
        parse_xml(body)
    assert caught.value.status == 400
    return caught.value.reason


def test_a_message_gives_its_fields_with_cdata_and_references_read() -> None:
    body = ("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>17</CreateTime>"
            "<Content><![CDATA[ 楼道灯坏了 <b> ]]></Content><Extra>a &amp; b &#20320;</Extra></xml>").encode()
    assert parse_xml(body) == {"ToUserName": "gh_1", "CreateTime": "17", "Content": "楼道灯坏了 <b>",
                               "Extra": "a & b 你"}


def test_a_field_with_children_keeps_only_its_own_leading_text_and_a_repeated_field_the_last() -> None:
    body = ("<xml><SendPicsInfo>lead<Count>1</Count>tail<PicList><item><PicMd5Sum>x</PicMd5Sum></item>"
            "</PicList></SendPicsInfo><A>first</A><A>second</A><!-- note --><B/></xml>")
    assert parse_xml(body) == {"SendPicsInfo": "lead", "A": "second", "B": ""}


def test_utf16_bodies_are_read_and_their_doctype_refused() -> None:
    assert parse_xml("<xml><A>宽字符</A></xml>".encode("utf-16")) == {"A": "宽字符"}
    assert "DTD" in refused('<!DOCTYPE xml><xml><A>1</A></xml>'.encode("utf-16"))
    laughs = ('<!DOCTYPE x [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]>'
              "<xml><A>&b;</A></xml>").encode("utf-16")
    assert "DTD" in refused(laughs)


@pytest.mark.parametrize("body", [
    "<other><A>1</A></other>",
    "<xml xmlns='urn:x'><A>1</A></xml>",
    "<x:xml xmlns:x='urn:x'><A>1</A></x:xml>",
], ids=["other-root", "default-namespace", "prefixed-root"])
def test_only_a_plain_xml_root_is_accepted(body: str) -> None:
    assert refused(body) == "root element is not <xml>"


def test_depth_and_size_are_capped_while_parsing() -> None:
    assert parse_xml("<xml>" + "<a>" * (MAX_DEPTH - 1) + "</a>" * (MAX_DEPTH - 1) + "</xml>") == {"a": ""}
    assert refused("<xml>" + "<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH + "</xml>") == "XML too deep or too large"
    assert parse_xml("<xml>" + "<a/>" * (MAX_ELEMENTS - 1) + "</xml>") == {"a": ""}
    assert refused("<xml>" + "<a/>" * MAX_ELEMENTS + "</xml>") == "XML too deep or too large"
    # Refused at the first element too deep, before the unclosed rest is read.
    assert refused("<xml>" + "<a>" * 100_000) == "XML too deep or too large"


@pytest.mark.parametrize("body", [
    "", "not xml", "<xml><A>", "<xml><A>1</A></xml>junk", "<xml><A>&undefined;</A></xml>",
    '<?xml version="1.0" encoding="GBK"?><xml><A>中</A></xml>'.encode("gbk"),
], ids=["empty", "garbage", "truncated", "junk-after", "undefined-entity", "gbk"])
def test_malformed_bodies_are_refused(body: str | bytes) -> None:
    assert refused(body).startswith("malformed XML")
