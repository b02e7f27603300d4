"""Config problems as the person editing config.yaml needs them: every one, each on one line,
with a key path they can search for (`grids[G02].community`) and what to do about it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from bot.config_base import ConfigProblems, grid_labels


def error_path(loc: Sequence[str | int], grids: Sequence[str]) -> str:
    """`grids[G02].leaders[0].phone` from pydantic's ('grids', 1, 'leaders', 0, 'phone')."""
    path = ""
    for position, part in enumerate(loc):
        if position == 1 and loc[0] == "grids" and isinstance(part, int) and part < len(grids):
            path += f"[{grids[part]}]"
        elif isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _raw_grid_labels(data: Mapping) -> list[str]:
    grids = data.get("grids")
    if not isinstance(grids, list):
        return []
    return grid_labels([grid.get("id") if isinstance(grid, dict) else None for grid in grids])


def validation_problems(exc: ValidationError, data: Mapping, source: str) -> list[str]:
    """One line per problem: pydantic's field errors, or every whole-config check's finding
    (those run once every field is valid)."""
    grids = _raw_grid_labels(data)
    problems: list[str] = []
    for error in exc.errors():
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ConfigProblems):
            problems += [f"{source}: {problem}" for problem in cause.problems]
            continue
        path = error_path(error["loc"], grids)
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
        problems.append(f"{source}: {path}: {message}" if path else f"{source}: {message}")
    return problems


def tab_indented_line(text: str, error_line: int | None) -> int | None:
    """The 1-based number of the tab-indented line nearest before a YAML error at 0-based
    `error_line` (or the first one in the file); None when no line is indented with a tab."""
    found = [number for number, line in enumerate(text.splitlines(), 1)
             if "\t" in line[: len(line) - len(line.lstrip(" \t"))]
             and (error_line is None or number <= error_line + 1)]
    if not found:
        return None
    return found[-1] if error_line is not None else found[0]
