"""Repository SQL, written once in SQLite's dialect with `?` parameters, in PostgreSQL's.

sqlglot parses and writes it (SQLite → PostgreSQL); the few SQLite idioms it leaves as they are
are rewritten here, each with why. Each text is translated once (cached).
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.tokens import TokenType

# Columns never NULL wherever they appear: `id` is every table's primary key (and no query names
# anything else `id`). Only these are ordered without SQLite's NULL placement.
_NEVER_NULL = frozenset({"id"})


class _Generator(Postgres.Generator):
    """PostgreSQL output, with the few SQLite idioms sqlglot leaves as they are put right."""

    def ordered_sql(self, expression: exp.Ordered) -> str:
        # sqlglot adds NULLS FIRST to keep SQLite's order of NULLs; a conflict target takes none.
        if isinstance(expression.parent, exp.OnConflict):
            return self.sql(expression, "this")
        if isinstance(expression.this, exp.Column) and expression.this.name in _NEVER_NULL:
            # No NULLs to place: PostgreSQL's own order (ASC NULLS LAST, DESC NULLS FIRST) is
            # what a b-tree index gives read forwards or backwards. Written out as SQLite's,
            # `ORDER BY id NULLS FIRST … LIMIT` read every matching row and sorted them.
            expression = expression.copy()
            expression.set("nulls_first", bool(expression.args.get("desc")))
        return super().ordered_sql(expression)


class _Dialect(Postgres):
    Generator = _Generator


def _numbered(sql: str) -> str:
    """`?` → `$1, $2, …` in the order they are written (outside strings and comments); `?NNN`
    → `$NNN`, and a bare `?` after it is the highest number so far plus one, as in SQLite."""
    parts: list[str] = []
    last = 0
    highest = 0
    tokens = sqlglot.tokenize(sql, read="sqlite")
    for index, token in enumerate(tokens):
        if token.token_type != TokenType.PLACEHOLDER:
            continue
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        parts.append(sql[last:token.start])
        if after is not None and after.token_type == TokenType.NUMBER and after.start == token.end + 1:
            number = int(after.text)
            last = after.end + 1
        else:
            number = highest + 1
            last = token.end + 1
        highest = max(highest, number)
        parts.append(f"${number}")
    parts.append(sql[last:])
    return "".join(parts)


def _is_boolean(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, exp.Predicate | exp.Connector | exp.Not)


def _is_parameter(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and not node.table and node.name.startswith("$")


def _qualify_conflict(node: exp.OnConflict) -> None:
    """In DO UPDATE SET, a bare column is the existing row (SQLite); PostgreSQL wants it named."""
    insert = node.parent
    target = insert.this if isinstance(insert, exp.Insert) else None
    table = target.this if isinstance(target, exp.Schema) else target
    if not isinstance(table, exp.Table):
        return
    for assignment in node.expressions:
        for column in assignment.expression.find_all(exp.Column):
            if not column.table:
                column.set("table", exp.to_identifier(table.name))


def _is_result_column(node: exp.Expression) -> bool:
    """A value the statement returns as it is: a SELECT's column, or a scalar subquery's column
    that is itself one (not one compared, aggregated or written anywhere)."""
    parent = node.parent
    if isinstance(parent, exp.Alias):
        node, parent = parent, parent.parent
    if not isinstance(parent, exp.Select) or node not in parent.expressions:
        return False
    holder = parent.parent
    if holder is None:
        return True
    return isinstance(holder, exp.Subquery) and _is_result_column(holder)


def _json_value(node: exp.JSONExtract | exp.JSONExtractScalar) -> exp.Expression:
    """json_extract: SQLite gives the value typed (a number as a number). Returned as a column,
    the json value itself (`->`), which the connection's json codec decodes the same way; inside
    an expression, its text (`->>`), which compares as SQLite's text does."""
    document = exp.cast(node.this, "json")  # our JSON lives in TEXT columns, as in SQLite
    if _is_result_column(node):
        return exp.JSONExtract(this=document, expression=node.expression)
    node.set("this", document)
    return node


def _rewrite(node: exp.Expression) -> exp.Expression:
    """SQLite idioms the repositories use, in PostgreSQL's terms (sqlglot leaves these as they are)."""
    if isinstance(node, exp.JSONExtract | exp.JSONExtractScalar) and not isinstance(node.this, exp.Cast):
        return _json_value(node)
    elif isinstance(node, exp.TimeToStr) and node.args.get("format") and node.args["format"].name == "%s":
        # strftime('%s', stamp): whole seconds since the epoch.
        stamp = node.this.this if isinstance(node.this, exp.TsOrDsToTimestamp) else node.this
        epoch = exp.Extract(this=exp.var("EPOCH"), expression=exp.cast(stamp, "timestamptz"))
        return exp.Floor(this=epoch)
    elif isinstance(node, exp.Where) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        # WHERE 0 / WHERE 1: PostgreSQL wants a boolean.
        return exp.Where(this=exp.Boolean(this=node.this.name != "0"))
    elif isinstance(node, exp.Table) and node.args.get("indexed"):
        node.set("indexed", None)  # INDEXED BY is SQLite's planner hint; PostgreSQL plans for itself
    elif isinstance(node, exp.Subquery) and isinstance(node.parent, exp.From | exp.Join) and not node.alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier(f"derived_{node.depth}")))
    elif isinstance(node, exp.Sum | exp.Avg | exp.Max | exp.Min | exp.Add | exp.Sub | exp.Mul):
        # A comparison is 0 or 1 in SQLite, a boolean here: SUM(a = b) counts, as it does there.
        for key in ("this", "expression"):
            part = node.args.get(key)
            if isinstance(part, exp.Expression) and _is_boolean(part):
                node.set(key, exp.cast(exp.paren(part, copy=False), "int"))
    elif isinstance(node, exp.If) and isinstance(node.parent, exp.Case) and _is_boolean(node.args["true"]):
        node.set("true", exp.cast(exp.paren(node.args["true"], copy=False), "int"))  # THEN a <= b
    elif isinstance(node, exp.Is) and _is_parameter(node.this):
        node.set("this", exp.cast(node.this, "text"))  # `? IS NULL`: nothing else types it
    elif isinstance(node, exp.OnConflict):
        _qualify_conflict(node)
    elif (isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT
          and not (isinstance(node.parent, exp.Cast) and _is_boolean(node.parent.this))):
        return exp.DataType.build("bigint")  # SQLite's INTEGER is 64-bit (a boolean casts to int only)
    return node


@lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """One repository statement in PostgreSQL's dialect (cached: the same texts recur)."""
    tree = sqlglot.parse_one(_numbered(sql), read="sqlite")
    return tree.transform(_rewrite).sql(dialect=_Dialect)
