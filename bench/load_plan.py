"""Who does what in bench/load.py: residents (channel, start time, address, category) and leaders.

Residents are spread round-robin over every grid of config.yaml, so each grid leader gets a
card every ~39 residents; no two residents report the same (building, category), so the bot
never offers 「我也遇到」 instead of a new ticket. Leaders of odd-numbered grids are bound on
Telegram, of even-numbered grids on WeChat, so every report crosses or stays on a channel in
all four ways (Telegram→Telegram, Telegram→WeChat, WeChat→Telegram, WeChat→WeChat).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import yaml

from bench.common import ROOT

# Categories routed to the grid leader only (代充燃气 also goes to a red post; 加装电梯 and
# 政策咨询 count working hours — harmless, but kept out so every card has the same path).
CATEGORIES = ("水电维修", "矛盾化解", "环境卫生/垃圾分类", "民情收集", "其他")
RESIDENT_BASE, LEADER_BASE = 100_000, 5_000
THINK_MIN, THINK_MAX = 0.6, 1.4  # seconds a resident takes to read an answer and send the next step


@dataclass(frozen=True)
class Leader:
    grid: str
    person: str
    channel: str  # "telegram" | "wechat"
    chat: str  # Telegram user id (as text) or WeChat openid


@dataclass(frozen=True)
class Resident:
    index: int
    channel: str
    start: float  # seconds after the run's start
    grid: str
    address: str  # compound + building, e.g. 龙池花园3栋 (also the option label the bot shows)
    category: str
    seed: int

    @property
    def marker(self) -> str:
        """Unique text in the description, so a ticket in the database names its resident."""
        return f"住户{self.index}号反映"

    @property
    def description(self) -> str:
        return f"{self.address}楼道灯坏了好几天了，晚上很黑（{self.marker}）"

    @property
    def telegram_user(self) -> int:
        return RESIDENT_BASE + self.index

    @property
    def openid(self) -> str:
        return f"oLoadResident{self.index:05d}{'0' * 10}"

    def think_times(self) -> random.Random:
        return random.Random(self.seed)


@dataclass(frozen=True)
class Plan:
    residents: list[Resident]
    leaders: dict[str, Leader]  # grid -> its leader

    def on(self, channel: str) -> list[Resident]:
        return [r for r in self.residents if r.channel == channel]

    def leader_chats(self, channel: str) -> set[str]:
        return {leader.chat for leader in self.leaders.values() if leader.channel == channel}


def is_telegram(index: int, telegram_share: float) -> bool:
    """Evenly interleaved: resident i is on Telegram when the running share crosses a whole number."""
    return int((index + 1) * telegram_share) > int(index * telegram_share)


def make_plan(count: int, seconds: float, telegram_share: float, seed: int = 7) -> Plan:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    grids = config["grids"]
    leaders: dict[str, Leader] = {}
    for k, grid in enumerate(grids):
        person = grid["leaders"][0]["id"]
        on_telegram = k % 2 == 0  # G01, G03, ... (odd grid numbers)
        chat = str(LEADER_BASE + k) if on_telegram else f"oLoadLeader{grid['id']}{'0' * 14}"
        leaders[grid["id"]] = Leader(grid["id"], person, "telegram" if on_telegram else "wechat", chat)
    addresses = {grid["id"]: [f"{c['name']}{b}" for c in grid["compounds"] for b in c["buildings"]]
                 for grid in grids}
    most = min(len(a) for a in addresses.values()) * len(CATEGORIES) * len(grids)
    if count > most:
        raise SystemExit(f"at most {most} residents (distinct building and category each)")
    residents = []
    for i in range(count):
        grid = grids[i % len(grids)]["id"]
        rounds, buildings = i // len(grids), addresses[grid]
        residents.append(Resident(
            index=i, channel="telegram" if is_telegram(i, telegram_share) else "wechat",
            start=i * seconds / count, grid=grid, address=buildings[rounds % len(buildings)],
            category=CATEGORIES[rounds // len(buildings)], seed=seed * 1_000_003 + i))
    return Plan(residents, leaders)
