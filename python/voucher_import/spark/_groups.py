"""What runs in the executors: one group's rows prepared by the engine in input order, and its
verdicts in one Arrow layout (``KIND``, ``ROW``, ``rules``, ``reason``, ``bytes``, the accepted
values, the input's values), rows and reasons named by input position."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import types as T

from .. import prepare as _prepare

#: The columns this package adds while it works (taken off the results).
ROW = "__vi_row"
BUCKET = "__vi_bucket"
KIND = "__vi_kind"
#: The name one process gives a single table: reasons name rows "of table".
SOURCE = "table"


def _a(column: str) -> str:
    return f"accepted:{column}"


def _r(column: str) -> str:
    return f"report:{column}"


def _output_schema(columns: Sequence[str], keep: Sequence[str], report: Sequence[str]) -> T.StructType:
    fields = [
        T.StructField(KIND, T.StringType()),
        T.StructField(ROW, T.LongType()),
        T.StructField("rules", T.StringType()),
        T.StructField("reason", T.StringType()),
        T.StructField("bytes", T.LongType()),
    ]
    fields += [T.StructField(_a(c), T.StringType()) for c in list(columns) + list(keep)]
    fields += [T.StructField(_r(c), T.StringType()) for c in report]
    return T.StructType(fields)


def _grouped(judge: "_GroupJudge") -> Any:
    """The function ``applyInArrow`` calls per group (a plain function: PySpark reads the
    number of its parameters)."""

    def grouped(table: pa.Table) -> pa.Table:
        return judge.judge(table, [])

    return grouped


def _cogrouped(judge: "_GroupJudge") -> Any:
    """Per group, with the group's existing codes beside it."""

    def cogrouped(table: pa.Table, codes: pa.Table) -> pa.Table:
        return judge.judge(table, codes.column("code").to_pylist() if codes.num_rows else [])

    return cogrouped


@dataclass(frozen=True)
class _GroupJudge:
    """What runs in the executors: one group's rows prepared in input order."""

    options: Dict[str, Any]
    files: List[Any]
    columns: List[str]
    keep: List[str]
    report: List[str]
    boolean_columns: Dict[str, Any]
    out_names: List[str]

    def judge(self, table: pa.Table, codes: List[str]) -> pa.Table:
        if table.num_rows == 0:
            return self._schema().empty_table()
        table = table.drop_columns([BUCKET]).sort_by(ROW)
        positions = table.column(ROW).to_pylist()
        source = table
        table = self._with_evidence(table)
        existing: Any = None
        if self.files:
            existing = self.files
        elif codes:
            existing = pa.array(codes, pa.string())
        result = _prepare(table, existing=existing, **self.options)
        return self._rows(result, positions, source)

    def _with_evidence(self, table: pa.Table) -> pa.Table:
        """Two rows after the group's own that tell ``empty_in_boolean_column`` the whole
        column's verdict (``true`` in a column whose values are all true/false, ``x`` in
        another). They have no code, are judged last (no row of the group is judged against
        them) and are taken off the results."""
        if not self.boolean_columns:
            return table
        extra = {}
        for field in table.schema:
            value = self.boolean_columns.get(field.name)
            if field.name == ROW:
                extra[field.name] = pa.array([-1, -2], field.type)
            else:
                extra[field.name] = pa.array([value, value], field.type)
        return pa.concat_tables([table, pa.table(extra, schema=table.schema)])

    def _schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(n, pa.int64() if n in (ROW, "bytes") else pa.string()) for n in self.out_names]
        )

    def _rows(self, result: Any, positions: List[int], source: pa.Table) -> pa.Table:
        """The group's verdicts in the output layout (Arrow compute, no loop over rows but
        over the reasons that name a row), rows and reasons named by input position."""
        schema = self._schema()
        parts = []
        accepted = result.accepted
        if accepted.num_rows:
            own = pc.greater_equal(accepted.column(ROW).cast(pa.int64()), 0)
            accepted = accepted.filter(own)
        if accepted.num_rows:
            n = accepted.num_rows
            columns: Dict[str, Any] = {
                KIND: pa.array(["accepted"] * n, pa.string()),
                ROW: accepted.column(ROW).cast(pa.int64()),
                "rules": pa.nulls(n, pa.string()),
                "reason": pa.nulls(n, pa.string()),
                "bytes": _encoded_lengths([_text_column(accepted, c) for c in self.columns]),
            }
            for c in self.columns + self.keep:
                columns[_a(c)] = _text_column(accepted, c)
            # The input's values too: a row past the campaign limit is listed as rejected.
            at = {row: i for i, row in enumerate(positions)}
            taken = pa.array([at[row] for row in columns[ROW].to_pylist()], pa.int64())
            for c in self.report:
                columns[_r(c)] = pc.take(_text_column(source, c), taken)
            parts.append(pa.table(columns, schema=schema))
        places = pa.array(positions, pa.int64())
        for kind, table in (("rejected", result.rejected), ("warned", result.warnings)):
            if not table.num_rows:
                continue
            table = table.filter(pc.greater_equal(table.column(ROW).cast(pa.int64()), 0))
            n = table.num_rows
            if not n:
                continue
            local = pc.subtract(table.column("row").cast(pa.int64()), 1)
            columns = {
                KIND: pa.array([kind] * n, pa.string()),
                ROW: pc.take(places, local),
                "rules": _text_column(table, "rules"),
                "reason": _renamed_rows(_text_column(table, "reason"), positions),
                "bytes": pa.nulls(n, pa.int64()),
            }
            for c in self.columns + self.keep:
                columns[_a(c)] = pa.nulls(n, pa.string())
            for c in self.report:
                columns[_r(c)] = _text_column(table, c)
            parts.append(pa.table(columns, schema=schema))
        if not parts:
            return schema.empty_table()
        return pa.concat_tables(parts)


def _text_column(table: pa.Table, column: str) -> pa.Array:
    """A column as text (a kept column comes back in its type: its text again); nulls when
    the table has no such column."""
    if column not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    values = table.column(column).combine_chunks()
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values


def _renamed_rows(reasons: pa.Array, positions: List[int]) -> pa.Array:
    """Reasons that name a row of the group ("repeats row 3 of table") naming its input
    position instead."""
    pattern = rf"row \d+ of {SOURCE}\b"
    naming = pc.match_substring_regex(reasons, pattern)
    if not pc.any(naming).as_py():
        return reasons

    def place(match: "re.Match[str]") -> str:
        local = int(match.group(1))
        return str(positions[local - 1]) if 0 < local <= len(positions) else match.group(1)

    values = reasons.to_pylist()
    for at, names in enumerate(naming.to_pylist()):
        if names:
            values[at] = re.sub(rf"(?<=row )(\d+)(?= of {SOURCE}\b)", place, values[at])
    return pa.array(values, pa.string())


def _encoded_lengths(columns: List[pa.Array]) -> pa.Array:
    """Each row's bytes in a batch, as the engine encodes it (RFC 4180: a field holding a
    comma, a quote, CR or LF quoted with its quotes doubled; CRLF; a lone empty field `""`)."""
    n = len(columns[0]) if columns else 0
    total = pa.array([2 + max(len(columns) - 1, 0)] * n, pa.int64())
    for values in columns:
        size = pc.fill_null(pc.binary_length(values).cast(pa.int64()), 0)
        quoted = pc.fill_null(pc.match_substring_regex(values, '[,"\r\n]'), False)
        quotes = pc.fill_null(pc.count_substring(values, '"').cast(pa.int64()), 0)
        extra = pc.if_else(quoted, pc.add(quotes, 2), 0)
        total = pc.add(total, pc.add(size, extra))
    if len(columns) == 1:
        empty = pc.equal(pc.fill_null(pc.binary_length(columns[0]), 0), 0)
        total = pc.add(total, pc.if_else(empty, 2, 0))
    return total
