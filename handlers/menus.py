"""The three menus (微丰山 / 微党建 / 微服务), their content items, and 联系网格."""

from __future__ import annotations

from dataclasses import replace

from handlers import activities
from handlers.address_steps import ADDRESS_STEPS, address_back, handle_address, prompt_address
from handlers.buttons import BACK, ItemButton, MenuButton, MyDataAction, MyDataButton
from handlers.context import Context
from handlers.dialog_state import OpenDialog, begin_side_flow, end_dialog, save
from handlers.domain.model import Menu, MenuAction, MenuItem, MenuItemKind, Place, Role
from handlers.flow_states import AddressPick, ContactState, Flow
from handlers.formatting import mask_phone
from handlers.types import Option, Reply
from storage import accounts
from storage.accounts import Resident

CONTACT_FLOW = Flow.CONTACT
CHANGE_ADDRESS = MyDataButton(MyDataAction.CHANGE_ADDRESS)  # 修改地址, here and in 我的数据
ACTIVITIES_TITLE = "近期活动"  # the 微丰山 menu's item that also lists the open sign-ups


def help_text(ctx: Context) -> str:
    """The help for the sender's role: what a resident may do (staff report as residents too),
    then each staff section the role may use and no other — every bound staff member acts on
    tickets, community staff and admins read the 三率, only admins announce, bind groups and invite."""
    sections = ["help"]
    role = ctx.person.role if ctx.person is not None else None
    if role is not None:
        sections.append("help_staff")
    if role in (Role.STAFF, Role.ADMIN):
        sections.append("help_stats")
    if role == Role.ADMIN:
        sections.append("help_admin")
    return "\n\n".join(ctx.t(key) for key in sections)


def show_help(ctx: Context) -> None:
    ctx.say(help_text(ctx))


def main_menu_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(Option(m.title, MenuButton(m.key).encode()) for m in ctx.services.config.menus)


def menu_by_button(ctx: Context, button: MenuButton) -> Menu | None:
    return next((m for m in ctx.services.config.menus if m.key == button.key), None)


def menu_by_text(ctx: Context, text: str) -> Menu | None:
    return next((m for m in ctx.services.config.menus if m.title == text.strip()), None)


def find_item(ctx: Context, key: str) -> MenuItem | None:
    for menu in ctx.services.config.menus:
        for item in menu.items:
            if item.key == key:
                return item
    return None


def show_main_menu(ctx: Context, intro: str = "") -> None:
    ctx.outcome.say(Reply(text=intro or ctx.t("menu_intro"), options=main_menu_options(ctx), main_keyboard=True))


def show_menu(ctx: Context, menu: Menu) -> None:
    ctx.say(f"【{menu.title}】", *[(item.title, ItemButton(item.key)) for item in menu.items])


def _place_text(ctx: Context, place: Place) -> str:
    return ctx.t(
        "service_point", name=place.name, address=place.address,
        hours=ctx.t("hours", hours=place.hours) if place.hours else "",
        phone=ctx.t("phone", phone=place.phone) if place.phone else "",
        note=ctx.t("note", note=place.note) if place.note else "",
    )


def show_places(ctx: Context, title: str, places: list[Place]) -> None:
    if not places:
        ctx.say(ctx.t("none_configured"))
        return
    ctx.say(f"【{title}】\n\n" + "\n\n".join(_place_text(ctx, p) for p in places))


def show_volunteer_teams(ctx: Context, title: str) -> None:
    teams = ctx.services.config.volunteer_teams
    if not teams:
        ctx.say(ctx.t("none_configured"))
        return
    lines = [ctx.t("volunteer_team", name=t.name, focus=f"（{t.focus}）" if t.focus else "") for t in teams]
    ctx.say(f"【{title}】\n" + ctx.t("volunteer_intro", count=len(teams)) + "\n" + "\n".join(lines))


async def show_item(ctx: Context, item: MenuItem) -> MenuAction | None:
    """Answer a content or link item; an action item is returned for the dispatcher to run."""
    config = ctx.services.config
    if item.kind is MenuItemKind.CONTENT:
        ctx.say(f"【{item.title}】\n{item.text}")
        if item.title == ACTIVITIES_TITLE:  # the standing text, then what can be signed up for now
            await activities.show_open(ctx)
    elif item.kind is MenuItemKind.LINK:
        ctx.outcome.say(Reply(text=f"【{item.title}】\n{item.text}".strip(), link=item.url, link_label=item.title))
    elif item.action is MenuAction.SERVICE_POINTS:
        show_places(ctx, item.title, [config.subdistrict.center, *[c.center for c in config.communities]]
                    if not config.service_points else config.service_points)
    elif item.action is MenuAction.RED_POSTS:
        show_places(ctx, item.title, config.red_posts)
    elif item.action is MenuAction.CARE_POINTS:
        show_places(ctx, item.title, config.care_points)
    elif item.action is MenuAction.VOLUNTEER_TEAMS:
        show_volunteer_teams(ctx, item.title)
    else:
        return item.action
    return None


def _grid_contact_text(ctx: Context, resident: Resident) -> str:
    config = ctx.services.config
    grid = config.grid(resident.grid_id or "")
    if grid is None:
        return ctx.t("contact_need_address")
    community = config.community(grid.community)
    leader = grid.leaders[0]
    full = config.privacy.contact_full_phone

    def shown(phone: str) -> str:
        return (phone if full else mask_phone(phone)) if phone else ""

    return ctx.t(
        "contact_grid", grid=grid.name, community=community.name if community else grid.community,
        leader=leader.name, phone=shown(leader.phone), guide=grid.guide.name,
        guide_phone=shown(grid.guide.phone),
    ).rstrip()


async def contact_grid(ctx: Context) -> None:
    resident = await accounts.get_resident(ctx.conn, ctx.account.resident_id)
    if resident.grid_id and ctx.services.config.grid(resident.grid_id):
        ctx.say(_grid_contact_text(ctx, resident), (ctx.t("change_address"), CHANGE_ADDRESS))
        return
    ctx.say(ctx.t("contact_need_address"))
    await begin_side_flow(ctx, CONTACT_FLOW, "community", ContactState())
    prompt_address(ctx, "community", AddressPick(), public=False)


async def change_address(ctx: Context) -> None:
    """修改地址: the address steps of a report (a home is a building: no public places), then
    the new address is the one the next report offers."""
    ctx.say(ctx.t("change_address_prompt"))
    await begin_side_flow(ctx, CONTACT_FLOW, "community", ContactState(change=True))
    prompt_address(ctx, "community", AddressPick(), public=False)


async def handle_contact(ctx: Context, dialog: OpenDialog) -> None:
    assert isinstance(dialog.state, ContactState)
    pick, step, change = dialog.state.pick, dialog.step, dialog.state.change
    if ctx.pressed == BACK:
        previous = address_back(step)
        if previous is None:
            await end_dialog(ctx)
            ctx.say(ctx.t("cancelled"))
            return
        step = previous
        address = None
    elif step in ADDRESS_STEPS:
        step, address, pick = handle_address(ctx, step, pick, public=False)
    else:
        address = None
    if address is None:
        await save(ctx, replace(dialog, step=step, state=ContactState(pick, change)))  # a carried draft stays
        prompt_address(ctx, step, pick, public=False)
        return
    await accounts.bind_address(ctx.conn, ctx.account.resident_id, address.community_id,
                                address.compound, address.building, address.grid_id)
    if change:
        ctx.say(ctx.t("change_address_done", address=address.label))
    await end_dialog(ctx)
    resident = await accounts.get_resident(ctx.conn, ctx.account.resident_id)
    ctx.say(_grid_contact_text(ctx, resident))
