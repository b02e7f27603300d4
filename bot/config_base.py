"""What every config model shares: strictness and the one error type."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(Exception):
    """A config problem, phrased as one line that names the key path."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
