"""Arrow data to and from the engine: tables, DataFrames and readers as Arrow IPC streams
(one stream for a table, one stream per batch for a reader, read as the run asks), and the run's
rows back as pyarrow tables."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pyarrow as pa
import pyarrow.ipc

from .errors import InputError, UsageError


def source_data(table: Any, name: str) -> Any:
    """A table as the engine takes it: one IPC stream, or for a reader a stream of them."""
    if isinstance(table, pa.RecordBatchReader):
        return (table_stream(pa.Table.from_batches([], schema=table.schema)), batch_streams(table))
    return table_stream(as_table(table, name))


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


def table_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    stream: bytes = sink.getvalue().to_pybytes()
    return stream


def batch_streams(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    """The reader's batches one by one, each as an IPC stream, as the run asks for them."""
    for batch in reader:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        yield sink.getvalue().to_pybytes()


def read_stream(stream: bytes) -> pa.Table:
    return pa.ipc.open_stream(stream).read_all()


def accepted_union(groups: List[pa.Table], summary: Dict[str, Any]) -> pa.Table:
    """The accepted rows of every column group in one table (columns in first-seen order)."""
    if len(groups) == 1:
        return groups[0]
    if groups:
        return pa.concat_tables(groups, promote_options="default")
    columns: List[str] = []
    for group in summary.get("column_groups", []):
        columns += [c for c in group.get("columns", []) if c not in columns]
    return pa.table({c: pa.array([], pa.string()) for c in columns})


