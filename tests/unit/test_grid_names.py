"""How a typed grid is read for 转派 (handlers/domain/grid_names.py), with the shipped config."""

from __future__ import annotations

import pytest

from bot.config import Config
from handlers.domain.grid_names import list_order, matching_grids, split_grid_and_reason


def ids(config: Config, text: str) -> tuple[list[str], bool]:
    found, certain = matching_grids(config, text)
    return [g.id for g in found], certain


@pytest.mark.parametrize("text", ["G1", "g01", "Ｇ０１", "G 1", "G001", "g1", "龙池花园第一网格"])
def test_ids_as_people_type_them_and_whole_names(config: Config, text: str) -> None:
    assert ids(config, text) == (["G01"], True)


def test_parts_of_names(config: Config) -> None:
    assert ids(config, "醉翁") == (["G08"], True)  # a part of exactly one name
    assert ids(config, "龙池花园") == (["G01", "G02", "G03"], False)
    assert ids(config, "南桥新村一网格") == (["G11"], False)  # a guess: to be confirmed
    assert ids(config, "G99") == ([], False)
    assert ids(config, "楼栋不归我们管") == ([], False)
    assert ids(config, "") == ([], False)


@pytest.mark.parametrize(("text", "split"), [
    ("G02 楼栋不归我们管", ("G02", "楼栋不归我们管")),
    ("g2，楼栋不归我们管", ("g2", "楼栋不归我们管")),
    ("G02楼栋不归我们管", ("G02", "楼栋不归我们管")),
    ("龙池花园第二网格楼栋不归我们管", ("龙池花园第二网格", "楼栋不归我们管")),
    ("龙池花园第二网格：楼栋不归我们管", ("龙池花园第二网格", "楼栋不归我们管")),
    ("龙池花园 楼栋不归我们管", ("龙池花园", "楼栋不归我们管")),
    ("G02", ("G02", "")),
    ("G99", ("G99", "")),  # never 「G9」 with the reason 「9」
    ("G1 2号楼不归我们", ("G1", "2号楼不归我们")),
    ("G02 龙池花园第二网格", ("G02", "")),  # a list label typed out is no reason
    ("G11 南桥新村第一网格（南桥社区）", ("G11", "")),
    ("G11 南桥新村第一网格(南桥社区)", ("G11", "")),
    ("G02 龙池花园第二网格的人说归他们", ("G02", "龙池花园第二网格的人说归他们")),
])
def test_a_reason_after_the_grid(config: Config, text: str, split: tuple[str, str]) -> None:
    assert split_grid_and_reason(config, text) == split


def test_list_order_puts_the_own_community_first(config: Config) -> None:
    order = list_order(config, "G12", "nanqiao")
    assert order[:9] == ["G11", "G13", "G14", "G15", "G16", "G17", "G18", "G19", "G20"]
    assert order[9:] == [g.id for g in config.grids if g.community != "nanqiao"]
    assert "G12" not in order and len(order) == len(config.grids) - 1
