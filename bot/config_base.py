"""The error types of config loading (the models share handlers.domain.base.Strict)."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigError(Exception):
    """Config problems, each phrased as one line that names the key path (usually just one)."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems: tuple[str, ...] = problems


class ConfigProblems(ValueError):
    """Every problem one whole-config check found; the loader reports each on its own line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


def grid_labels(ids: Sequence[object]) -> list[str]:
    """How error paths name each grid: by its id (`grids[G02]`), which the person editing the
    file searches for, or by position when the id is missing or not unique."""
    return [value if isinstance(value, str) and value and ids.count(value) == 1 else str(index)
            for index, value in enumerate(ids)]

