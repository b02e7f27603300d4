"""Button data codecs (handlers/buttons.py): every kind encodes to exactly the data the bot sent
before the codecs existed (buttons already in residents' chats keep working) and decodes back;
forged, malformed, overlong or non-canonical data decodes to None, while still saying which
kind it claims to be (so the router can answer it with that kind's refusal)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.config import Config
from handlers import buttons
from handlers.addresses import AddressBook
from handlers.button_codec import DATA_LIMIT, Button
from handlers.buttons import (
    AddressButton,
    AnnouncementButton,
    AnnouncementsAction,
    AnnouncementsButton,
    AnnouncementVerb,
    AnnounceNow,
    AnnounceToAll,
    AnnounceToCommunity,
    BuildingButton,
    CategoryButton,
    CommunityButton,
    CompoundButton,
    ConfirmAnnouncement,
    DraftButton,
    ItemButton,
    JoinSignup,
    ListKind,
    ListPage,
    MainMenu,
    MenuButton,
    MeTooButton,
    MyDataAction,
    MyDataButton,
    MyTicketButton,
    MyTicketVerb,
    Nav,
    NavAction,
    NoSignup,
    PageButton,
    PhoneButton,
    PlaceButton,
    RateButton,
    ReassignGrid,
    ReportFromText,
    ShowMyTicket,
    SignupButton,
    SignupVerb,
    SkipFlat,
    SkipReason,
    SubmitReport,
    TicketButton,
    TicketVerb,
    claimed_kind,
    decode,
)
from handlers.report_buttons import AddressChoice, DraftChoice, PhoneChoice
from storage.tickets import Rating

ROOT = Path(__file__).resolve().parents[2]

# The data each kind had when the flows still wrote it by hand (f"t:ack:{id}", "nav:back", …).
ENCODED: list[tuple[Button, str]] = [
    (Nav(NavAction.BACK), "nav:back"), (Nav(NavAction.CANCEL), "nav:cancel"),
    (MainMenu(), "menu"), (ReportFromText(), "report:text"),
    (MenuButton("weifengshan"), "m:weifengshan"), (ItemButton("contact_grid"), "i:contact_grid"),
    (TicketButton(TicketVerb.ACK, 1), "t:ack:1"), (TicketButton(TicketVerb.RESOLVE, 12), "t:res:12"),
    (TicketButton(TicketVerb.REASSIGN, 999_999_999), "t:re:999999999"),
    (ReassignGrid(5, "G08"), "rg:5:G08"),
    (RateButton(7, Rating.SATISFIED), "rate:7:satisfied"), (RateButton(7, Rating.MOSTLY), "rate:7:mostly_satisfied"),
    (RateButton(7, Rating.UNSATISFIED), "rate:7:unsatisfied"), (SkipReason(), "why:skip"),
    (ShowMyTicket(3), "my:3"), (MyTicketButton(MyTicketVerb.ADD_INFO, 3), "my:add:3"),
    (MyTicketButton(MyTicketVerb.CANCEL, 3), "my:cancel:3"),
    (MyTicketButton(MyTicketVerb.CANCEL_CONFIRMED, 3), "my:cancelok:3"),
    (MyDataButton(MyDataAction.ASK), "pd:ask"), (MyDataButton(MyDataAction.ERASE), "pd:erase"),
    (MyDataButton(MyDataAction.KEEP), "pd:keep"),
    (JoinSignup(12), "su:12"), (SignupButton(SignupVerb.LEAVE, 12), "su:x:12"),
    (SignupButton(SignupVerb.LIST, 12), "su:l:12"),
    (AnnouncementsButton(AnnouncementsAction.LIST), "an:list"), (AnnouncementsButton(AnnouncementsAction.NEW), "an:new"),
    (AnnouncementButton(AnnouncementVerb.VIEW, 4), "an:v:4"), (AnnouncementButton(AnnouncementVerb.EDIT, 4), "an:e:4"),
    (AnnouncementButton(AnnouncementVerb.CANCEL, 4), "an:c:4"),
    (AnnounceToAll(), "an:t:all"), (AnnounceToCommunity("longchi"), "an:t:c:longchi"), (AnnounceNow(), "an:w:now"),
    (NoSignup(), "an:s:none"), (ConfirmAnnouncement(), "an:ok"),
    (CategoryButton("repair"), "r:cat:repair"), (CategoryButton("a:b"), "r:cat:a:b"),
    (PhoneButton(PhoneChoice.REUSE), "r:ph:reuse"), (PhoneButton(PhoneChoice.SKIP), "r:ph:skip"),
    (DraftButton(DraftChoice.RESUME), "r:draft:go"), (DraftButton(DraftChoice.RESTART), "r:draft:new"),
    (SubmitReport(), "r:submit"), (SkipFlat(), "r:flat:skip"), (MeTooButton(5), "r:metoo:5"),
    (AddressButton(AddressChoice.BOUND), "a:bound"), (AddressButton(AddressChoice.OTHER), "a:other"),
    (CommunityButton("longchi"), "a:com:longchi"), (CompoundButton(0), "a:cpd:0"), (BuildingButton(17), "a:b:17"),
    (CommunityButton("x" * 58), "a:com:" + "x" * 58),  # 64 bytes: Telegram's limit, still ours
    (AddressButton(AddressChoice.PUBLIC), "a:public"), (AddressButton(AddressChoice.NEAR), "a:near"),
    (PlaceButton(2), "a:pl:2"), (PageButton(1), "pg:1"), (ListPage(ListKind.MY_TICKETS, 2), "lp:my:2"), (MyDataButton(MyDataAction.CHANGE_ADDRESS), "pd:addr"),
]


@pytest.mark.parametrize(("button", "data"), ENCODED, ids=[data[:20] for _, data in ENCODED])
def test_each_kind_encodes_as_before_and_decodes_back(button: Button, data: str) -> None:
    assert button.encode() == data
    assert decode(data) == button
    assert claimed_kind(data) is type(button)


def test_the_table_covers_every_kind() -> None:
    assert {type(button) for button, _ in ENCODED} == set(buttons.KINDS)


REFUSED: list[tuple[str, type[Button] | None]] = [
    # forged or malformed ids: not a number, other scripts' digits, too long for SQLite, signs
    ("t:ack:abc", TicketButton), ("t:ack:²", TicketButton), ("t:ack:٣", TicketButton),
    ("t:ack:３", TicketButton), ("t:ack:" + "9" * 10, TicketButton), ("t:ack:" + "9" * 50, TicketButton),
    ("t:ack:-1", TicketButton), ("t:ack:+1", TicketButton), ("t:ack: 1", TicketButton),
    # missing or extra parts, unknown verbs, not canonical
    ("t:ack", TicketButton), ("t:ack:", TicketButton), ("t:zzz:1", TicketButton), ("t:ACK:1", TicketButton),
    ("t:ack:1:2", TicketButton), ("t:ack:01", TicketButton),
    ("rate:1:excellent", RateButton), ("rate:²:satisfied", RateButton), ("rate:1", RateButton),
    ("my:x", ShowMyTicket), ("my:²", ShowMyTicket), ("my:" + "9" * 40, ShowMyTicket), ("my:show:1", ShowMyTicket),
    ("my::1", ShowMyTicket), ("my:add:", MyTicketButton), ("my:add:1:1", MyTicketButton),
    ("pd:", MyDataButton), ("pd:delete", MyDataButton),
    ("su:²", JoinSignup), ("su::1", JoinSignup), ("su:y:1", JoinSignup), ("su:x:٣", SignupButton),
    ("an:v:²", AnnouncementButton), ("an:c:", AnnouncementButton), ("an:t:c:", AnnounceToCommunity),
    ("r:cat:", CategoryButton), ("r:ph:maybe", PhoneButton), ("r:draft:", DraftButton), ("r:metoo:²", MeTooButton),
    ("a:pl:x", PlaceButton), ("a:pl:-1", PlaceButton), ("pg:x", PageButton), ("pg:-1", PageButton),
    ("pg:", PageButton), ("pg:1:2", PageButton), ("pg:01", PageButton),
    ("a:cpd:-1", CompoundButton), ("a:b:x", BuildingButton), ("a:com:", CommunityButton),
    ("a:elsewhere", None),
    ("m:x:²", MenuButton), ("m:ABC", MenuButton), ("m:", MenuButton), ("i:" + "a" * 41, ItemButton),
    ("i:a b", ItemButton), ("nav:", Nav), ("nav:up", Nav), ("nav:back ", Nav),
    # over Telegram's 64 bytes (non-ASCII counts in UTF-8 bytes), control and format characters
    ("a:com:" + "x" * 59, CommunityButton), ("r:cat:" + "长" * 20, CategoryButton),
    ("t:ack:1\n", TicketButton), ("r:cat:repair\u202e", CategoryButton), ("r:cat:re\x00pair", CategoryButton),
    # no kind at all
    ("", None), ("x", None), ("menu ", None), ("menu2", None), ("MENU", None), ("report:text2", None),
    ("an:list:1", None), ("an:newx", None), ("an:v", None), ("r:submitx", None), ("metoo:1", None),
]


@pytest.mark.parametrize(("data", "kind"), REFUSED, ids=[repr(data)[:24] for data, _ in REFUSED])
def test_forged_and_malformed_data_decodes_to_none(data: str, kind: type[Button] | None) -> None:
    assert decode(data) is None
    assert claimed_kind(data) is kind


@pytest.mark.parametrize("make", [
    lambda: TicketButton(TicketVerb.ACK, -1), lambda: TicketButton(TicketVerb.ACK, 10**9),
    lambda: TicketButton(TicketVerb.ACK, True), lambda: TicketButton("ack", 1),  # type: ignore[arg-type]
    lambda: RateButton(1, "satisfied"), lambda: MenuButton("Bad Key"),  # type: ignore[arg-type]
    lambda: CategoryButton(""), lambda: AnnounceToCommunity("long\nchi"), lambda: CompoundButton(-1),
])
def test_a_button_that_could_not_be_read_back_cannot_be_built(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        make()


def test_every_button_the_sample_config_makes_fits_and_round_trips(config: Config) -> None:
    """Buttons carry config ids (categories, communities, menu keys) and address-book indexes:
    with the shipped config.yaml each fits Telegram's 64 bytes and decodes to itself."""
    book = AddressBook(config)
    made: list[Button] = [CategoryButton(c.id) for c in config.categories]
    made += [CommunityButton(c.id) for c in config.communities]
    made += [AnnounceToCommunity(c.id) for c in config.communities]
    made += [MenuButton(m.key) for m in config.menus]
    made += [ReassignGrid(999_999_999, g.id) for g in config.grids]
    made += [ItemButton(i.key) for m in config.menus for i in m.items]
    compounds = [name for c in config.communities for name in book.compounds_of(c.id)]
    made += [CompoundButton(book.compound_index(name)) for name in compounds]
    made += [BuildingButton(b.index) for name in compounds for b in book.buildings_of(name)]
    assert len(made) > 50
    for button in made:
        assert len(button.encode().encode("utf-8")) <= DATA_LIMIT, button
        assert decode(button.encode()) == button


PREFIXES = {prefix for kind in buttons.KINDS for prefix in kind.PREFIXES if ":" in prefix}
CODECS = {ROOT / "handlers" / "buttons.py", ROOT / "handlers" / "report_buttons.py", ROOT / "handlers" / "button_codec.py"}


def _string_pieces(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal and f-string piece, docstrings (bare string statements) left out."""
    docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


def test_no_module_but_the_codec_spells_button_data() -> None:
    """Guard: button data is built and read only through handlers/buttons.py. A string literal
    (f-strings included) in handlers/ or bot/ that starts with a button prefix («t:», «my:»,
    «an:v:», …) is someone parsing or building button data by hand again."""
    found = []
    for package in ("handlers", "bot"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path in CODECS:
                continue
            for line, text in _string_pieces(ast.parse(path.read_text(encoding="utf-8"))):
                if any(text.startswith(p) for p in PREFIXES):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {text!r}")
    assert found == []


def _longest_prefix_kind(data: str) -> type[Button] | None:
    """The claim as first written: every prefix tried, longest first."""
    by_prefix = sorted(((p, k) for k in buttons.KINDS for p in k.PREFIXES), key=lambda pk: -len(pk[0]))
    return next((kind for prefix, kind in by_prefix
                 if data == prefix or (prefix.endswith(":") and data.startswith(prefix))), None)


def test_the_claimed_kind_is_the_longest_prefix_for_any_data() -> None:
    prefixes = [p for k in buttons.KINDS for p in k.PREFIXES]
    tails = ["", "x", "1", ":", "1:2", "ack:1", ":x:", "长", "\n"]
    samples = {f"{p}{t}" for p in prefixes for t in tails} | {p[:-1] for p in prefixes} | {
        f"{a}{b}" for a in prefixes for b in prefixes} | {p + "x:" * 300 for p in prefixes}
    differing = [data for data in sorted(samples) if claimed_kind(data) is not _longest_prefix_kind(data)]
    assert len(samples) > 1000
    assert differing == []
