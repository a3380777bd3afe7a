"""Arrow data to and from the engine through the Arrow C stream interface
(``__arrow_c_stream__``): tables, DataFrames and readers go in as the buffers they hold (a
reader's batches read as the run asks for them), and the run's rows come back as pyarrow tables
over the buffers the engine built. Nothing is serialized or copied either way."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pyarrow as pa

from .errors import InputError, UsageError


def source_data(table: Any, name: str) -> Tuple[Tuple[Any, bool], pa.Schema]:
    """A table as the engine takes it: an Arrow C stream capsule, and whether it is read once
    (a reader, streamed) rather than held whole (a table); and the table's schema."""
    if isinstance(table, pa.RecordBatchReader):
        return (table.__arrow_c_stream__(), True), table.schema
    whole = as_table(table, name)
    return (whole.__arrow_c_stream__(), False), whole.schema


#: The types a kept column of a table source is given back in: their text form (as the engine
#: reads them) casts back to the same value. Others stay text.
def _round_trips(kind: pa.DataType) -> bool:
    return (
        pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date32(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
    )


def restore_kept_types(table: pa.Table, kept: List[str], schemas: List[pa.Schema]) -> pa.Table:
    """The kept columns (``keep=``) of ``table`` in the type the table sources gave them (when
    every source that has the column gives it one type whose text casts back exactly:
    integers, booleans, dates, strings), so that they join with the caller's own rows."""
    for name in kept:
        types = {s.field(name).type for s in schemas if name in s.names}
        at = table.schema.get_field_index(name)
        if len(types) != 1 or at < 0:
            continue
        (kind,) = types
        if not _round_trips(kind) or table.schema.field(at).type == kind:
            continue
        try:
            column = table.column(at).cast(kind, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        table = table.set_column(at, pa.field(name, kind, nullable=True), column)
    return table


def as_table(data: Any, name: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        if type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns"):
            return pa.Table.from_pandas(_periods_as_text(data), preserve_index=False)
        if hasattr(data, "__arrow_c_stream__"):
            try:
                return pa.table(data)
            except TypeError:
                return pa.RecordBatchReader.from_stream(data).read_all()
        if hasattr(data, "__arrow_c_array__"):
            return pa.Table.from_batches([pa.record_batch(data)])
        for method in ("to_arrow", "arrow"):
            if callable(getattr(data, method, None)):
                return as_table(getattr(data, method)(), name)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise InputError(
            f"'{name}' cannot be read as Arrow data: {error}",
            kind="input",
            path=name,
            fix="give every column one type (df.astype(str) turns them all into text)",
        ) from error
    raise UsageError(
        f"prepare() cannot read a {type(data).__name__}",
        fix="pass a path, a pyarrow Table or RecordBatchReader, a pandas or Polars DataFrame, "
        "or an object with __arrow_c_stream__",
    )


def _periods_as_text(frame: Any) -> Any:
    """pandas ``Period`` columns as their ISO text (``2026-01``, ``2026-01-15``): pyarrow would
    write them as their ordinal (a number of periods since 1970), which no reader could take
    for a date."""
    periods = [
        column
        for column in frame.columns
        if str(getattr(frame[column], "dtype", "")).startswith("period")
    ]
    if not periods:
        return frame
    frame = frame.copy()
    for column in periods:
        values = frame[column]
        frame[column] = values.astype(str).where(values.notna(), None)
    return frame


def read_stream(stream: Any) -> pa.Table:
    """The rows of one of the engine's streams (an object with ``__arrow_c_stream__``)."""
    return pa.RecordBatchReader.from_stream(stream).read_all()


def accepted_union(groups: List[pa.Table], summary: Dict[str, Any]) -> pa.Table:
    """The accepted rows of every column group in one table (columns in first-seen order)."""
    if len(groups) == 1:
        return groups[0]
    if groups:
        return pa.concat_tables(groups, promote_options="default")
    columns: List[str] = []
    for group in summary.get("column_groups", []):
        columns += [c for c in group.get("columns", []) if c not in columns]
    columns += [c for c in summary.get("kept_columns", []) if c not in columns]
    return pa.table({c: pa.array([], pa.string()) for c in columns})


