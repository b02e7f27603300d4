"""The one error type of config loading (the models share handlers.domain.base.Strict)."""

from __future__ import annotations


class ConfigError(Exception):
    """A config problem, phrased as one line that names the key path."""
