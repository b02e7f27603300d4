"""storage.url: a postgresql:// URL selects PostgreSQL; a password in it is a config error (the
password comes from the environment), and the URL is shown without one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_config
from storage.db import postgresql_url as as_url
from storage.pg import shown_url

SHIPPED = Path(__file__).resolve().parents[2] / "config.yaml"


def with_storage(tmp_path: Path, storage: dict[str, str]) -> Path:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["storage"] = storage
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_url_selects_postgresql_and_sqlite_stays_the_default(tmp_path: Path) -> None:
    assert load_config(SHIPPED).storage.url is None
    url = "postgresql://fengshan@db.internal:5432/fengshan"
    assert load_config(with_storage(tmp_path, {"url": url})).storage.url == url


@pytest.mark.parametrize("url", ["postgresql://fengshan:hunter2@db:5432/fengshan", "mysql://fengshan@db/fengshan",
                                 "postgresql://db:5432/fengshan"])
def test_a_password_or_another_scheme_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(with_storage(tmp_path, {"url": url}))
    assert "storage.url" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_the_url_is_shown_without_a_password() -> None:
    assert shown_url("postgresql://fengshan:hunter2@db:5432/fengshan") == "postgresql://fengshan@db:5432/fengshan"


def test_a_url_that_went_through_pathlib_is_still_postgresql() -> None:
    """`Path(app.db.path)` turns // into /: that must not become a SQLite file in a folder
    named `postgresql:` (an early run of a CLI test left one behind)."""
    url = "postgresql://postgres@127.0.0.1:5432/fengshan"
    assert as_url(str(Path(url))) == url
    assert as_url(url) == url
    assert as_url("data/fengshan.db") is None
    assert as_url("postgresql-backups/fengshan.db") is None
