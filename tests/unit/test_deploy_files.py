"""The deployment examples in deploy/ stay runnable: the compose file parses, its bots share one
config that our own loader accepts (PostgreSQL without a password, webhook mode, a server the proxy
reaches), the proxy spreads over every bot, and the systemd template unit parses and runs the
installed console script with a per-instance config."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

from bot.config import load_config
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_runs_three_bots_on_one_postgresql_behind_the_proxy() -> None:
    services = compose()["services"]
    bots = sorted(name for name, service in services.items() if "build" in service)
    assert bots == ["bot1", "bot2", "bot3"]
    assert services["db"]["image"].startswith("postgres:15")
    for name in bots:
        bot = services[name]
        assert bot["command"] == ["--config", "/etc/fengshan-bot/config.yaml", "run"]
        assert bot["depends_on"]["db"]["condition"] == "service_healthy"
        assert bot["environment"]["FENGSHAN_DB_PASSWORD"] == services["db"]["environment"]["POSTGRES_PASSWORD"]
    upstream = re.findall(r"server (bot\d):8080", (DEPLOY / "nginx.conf").read_text(encoding="utf-8"))
    assert upstream == bots
    assert "non_idempotent" in (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert services["bot1"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert 'ENTRYPOINT ["fengshan-bot"]' in dockerfile


def test_the_compose_config_keys_make_a_valid_config(tmp_path: Path) -> None:
    """The keys the compose file says every instance's config.yaml needs, set in the sample config."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    for section, values in compose()["x-config"].items():
        data.setdefault(section, {}).update(values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = load_config(path)
    assert config.storage.url == "postgresql://fengshan@db:5432/fengshan"
    assert config.telegram.mode.value == "webhook"
    assert (config.http.host, config.http.port) == ("0.0.0.0", 8080)
    db = compose()["services"]["db"]["environment"]
    assert config.storage.url.endswith(f"{db['POSTGRES_USER']}@db:5432/{db['POSTGRES_DB']}")


def test_the_systemd_unit_is_a_template_running_the_bot() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read_string((DEPLOY / "fengshan-bot@.service").read_text(encoding="utf-8"))
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert command[0].endswith("/fengshan-bot") and command[-1] == "run"
    assert command[command.index("--config") + 1] == "/etc/fengshan-bot/%i.yaml"
    assert service["Restart"] == "on-failure" and service["KillSignal"] == "SIGTERM"
    assert service["EnvironmentFile"].startswith("/etc/fengshan-bot/")
    assert "%i" in unit["Unit"]["Description"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    scripts = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^fengshan-bot = "bot\.cli:main"', scripts, re.MULTILINE)
