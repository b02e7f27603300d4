"""The WeChat message is read from the fields already checked (security.parse_xml), not by
parsing the XML again with wechatpy's parse_message: both must agree on every kind we use."""

from __future__ import annotations

import pytest
from wechatpy import parse_message

from bot.channels.wechat.messages import parsed, to_message
from bot.channels.wechat.security import parse_xml

HEAD = ("<ToUserName><![CDATA[gh_weifengshan]]></ToUserName>"
        "<FromUserName><![CDATA[oResident0001]]></FromUserName><CreateTime>1764400000</CreateTime>")
CASES = {
    "text": "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ 楼道灯坏了 ]]></Content><MsgId>7001</MsgId>",
    "menu": "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[是]]></Content><MsgId>7002</MsgId>"
            "<bizmsgmenuid>3</bizmsgmenuid>",
    "image": "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://p/1.jpg]]></PicUrl>"
             "<MediaId><![CDATA[m1]]></MediaId><MsgId>7003</MsgId>",
    "voice": "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[v1]]></MediaId><Format>amr</Format>"
             "<Recognition><![CDATA[我要反映。]]></Recognition><MsgId>7004</MsgId>",
    "voice without words": "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[v2]]></MediaId>"
                           "<Format>amr</Format><MsgId>7005</MsgId>",
    "location": "<MsgType><![CDATA[location]]></MsgType><Location_X>32.30</Location_X>"
                "<Location_Y>118.31</Location_Y><Scale>15</Scale><Label><![CDATA[龙池花园]]></Label><MsgId>7006</MsgId>",
    "subscribe": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey>",
    "subscribe by code": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
                         "<EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[t]]></Ticket>",
    "click": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[i:report]]></EventKey>",
    "unsubscribe": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>",
    "view": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[http://x]]></EventKey>",
    "video": "<MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[x]]></MediaId>"
             "<ThumbMediaId><![CDATA[y]]></ThumbMediaId><MsgId>7007</MsgId>",
}
ATTRIBUTES = ("type", "source", "target", "id", "content", "media_id", "image", "recognition",
              "location_x", "location_y", "label", "event", "key", "scene_id")


@pytest.mark.parametrize("name", list(CASES))
def test_the_fields_give_what_wechatpy_parses(name: str) -> None:
    xml = f"<xml>{HEAD}{CASES[name]}</xml>"
    fields = parse_xml(xml)
    ours, theirs = parsed(fields), parse_message(xml)
    assert type(ours) is type(theirs)
    for attribute in ATTRIBUTES:
        mine, wechatpys = getattr(ours, attribute, None), getattr(theirs, attribute, None)
        assert (mine or None) == (wechatpys or None), attribute


def test_the_incoming_keeps_what_the_resident_sent() -> None:
    xml = f"<xml>{HEAD}{CASES['voice']}</xml>"
    message = to_message(xml, parse_xml(xml))
    assert message.openid == "oResident0001"
    assert message.incoming is not None and message.incoming.text == "我要反映"
    menu = f"<xml>{HEAD}{CASES['menu']}</xml>"
    assert to_message(menu, parse_xml(menu)).menu_item_id == 3
