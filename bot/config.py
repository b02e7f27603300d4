"""config.yaml: loading, validation, the platform settings, and the subdistrict model built from it."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from bot.config_base import ConfigError
from bot.config_channels import (
    HttpSettings,
    StorageSettings,
    TelegramSettings,
    WeChatSettings,
    WeComSettings,
)
from bot.config_checks import check_cross_references
from bot.config_errors import tab_indented_line, validation_problems
from handlers.domain.base import Strict
from handlers.domain.model import Config as SubdistrictModel
from handlers.domain.model import Links

DEFAULT_CONFIG = "config.yaml"


class StatsSettings(Strict):
    """The workplace's 三率 dashboard: a grid with fewer tickets than `min_sample` in the period
    is listed apart (「样本不足」) instead of ranked, as a rate of 1 or 2 tickets says little."""

    min_sample: int = Field(default=5, ge=1, le=1000)


class Config(SubdistrictModel):
    """The whole file: the subdistrict model (what flows receive, see `model`) plus the platform
    settings only bot/ reads."""

    telegram: TelegramSettings = TelegramSettings()
    wechat: WeChatSettings = WeChatSettings()
    wecom: WeComSettings = WeComSettings()
    http: HttpSettings = HttpSettings()
    storage: StorageSettings = StorageSettings()
    stats: StatsSettings = StatsSettings()

    @model_validator(mode="after")
    def _cross_references(self) -> Config:
        check_cross_references(self)
        return self

    def model(self) -> SubdistrictModel:
        """The subdistrict model alone, for the flows: none of the platform sections."""
        fields = {name: getattr(self, name) for name in SubdistrictModel.model_fields}
        return SubdistrictModel.model_construct(**fields)  # already validated as part of this file

    def links(self) -> Links:
        """The little the flows need of the platform settings, channel-neutral."""
        return Links(bot_username=self.telegram.bot_username,
                     announce_to_followers=bool(self.wechat.app_id and self.wechat.announce_to_followers),
                     workplace_url=self.http.base_url())


def parse_config(data: object, source: str = DEFAULT_CONFIG) -> Config:
    """The validated config, or a ConfigError listing every problem pydantic and the
    whole-config checks found (the latter run once every field is valid)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(*validation_problems(exc, data, source)) from None


class _DuplicateKey(Exception):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load, except that a key repeated in one mapping is an error instead of last-wins."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if key in seen:
                mark = key_node.start_mark
                raise _DuplicateKey(f"line {mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; every problem becomes one ConfigError line."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        tab_line = tab_indented_line(text, mark.line if mark else None)
        if tab_line is not None:
            # PyYAML's own words ("found character '\t' that cannot start any token") do not say
            # what to do; a tab copied from a word processor is the usual cause.
            raise ConfigError(f"{source}: not valid YAML at line {tab_line}: "
                              "YAML 不允许用 Tab 缩进，请改用空格 (YAML indentation must be spaces, not tabs)"
                              ) from None
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    return parse_config(data, source)
