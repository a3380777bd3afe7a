"""``prepare`` past one machine: a Spark DataFrame judged by the same engine in the executors,
with the verdicts one process would give. Needs PySpark 4 (``applyInArrow``) and the package
installed on the executors.

>>> from voucher_import import spark as vi_spark
>>> result = vi_spark.prepare(df, campaign_type="gift", keep=["order_id"])   # doctest: +SKIP
>>> result.rejected.write.parquet("s3://bucket/rejected")                    # doctest: +SKIP

One machine prepares 10 million rows in seconds, far more than one Voucherify import takes:
use this for what is bigger than one machine (a project-wide conversion, a warehouse-wide
validation with dedup across hundreds of millions of codes), not for Voucherify-sized files.

How the work is split (input order is the order of ``df``'s rows, as
``monotonically_increasing_id`` numbers them):

1. Every row gets its input position (1-based, dense: the ``row`` one process gives a table).
2. Rows are shuffled by a hash of their code, letter case folded and (for an all-digit code)
   leading zeros taken off, so that every row a code's verdict depends on (its duplicates, its
   letter-case variants, the existing code it is once zeros are put back) lands in one group;
   the existing codes given as a DataFrame or a list are shuffled the same way beside them.
3. Each group is prepared by the engine (``applyInArrow``) in input order: the per-row rules,
   dedup (the first occurrence by input order wins), existing codes, letter-case variants;
   rows are named by their input position, so reasons read as one process writes them.
4. The campaign limit is global: the accepted rows past the limit in input order are rejected
   (``over_campaign_limit``), and a row rejected only as a duplicate of such a row is too, as
   one process decides it.
5. The batch cut (``batch`` in ``accepted``) is one ordered pass over the accepted rows'
   encoded sizes, as ``prepare --out`` cuts its batches (the canary batch first).

Two warnings look at a whole column, and see one group's part of it here:
``empty_in_boolean_column`` gets the column's verdict (all true/false or not) from the whole
column, as one process; ``excel_mangled_code``'s zero-padded siblings are those of the row's
group. Everything else is the same as one process.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

try:
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError("voucher_import.spark needs PySpark 4: pip install 'pyspark>=4'") from error

import pyarrow as pa
import pyarrow.compute as pc

from . import prepare as _prepare
from ._arguments import is_path
from .errors import UsageError

#: The columns this module adds while it works (taken off the results).
ROW = "__vi_row"
BUCKET = "__vi_bucket"
KIND = "__vi_kind"
#: The name one process gives a single table: reasons name rows "of table".
SOURCE = "table"
_ROUND_TRIP = (T.IntegerType, T.LongType, T.ShortType, T.ByteType, T.BooleanType, T.DateType, T.StringType)


@dataclass(frozen=True)
class SparkResult:
    """What :func:`prepare` gives: Spark DataFrames (lazy: each action computes them, so
    ``cache()`` what is used more than once).

    Attributes:
        accepted: the accepted rows as :attr:`voucher_import.Result.accepted` holds them (the
            batch columns as text, then the kept columns in their type), then ``row`` (the
            input position) and ``batch`` (the import batch the row goes into, from 1).
        rejected: ``source``, ``row`` (the input position), ``rules``, ``reason``, then the
            input's columns as read (text), as :attr:`voucher_import.Result.rejected`; kept
            columns in their type.
        warnings: the accepted rows a ``warn`` rule flagged, in the layout of ``rejected``.
        options: the run's options as the engine read them (``campaign_limit``, ...).
    """

    accepted: DataFrame
    rejected: DataFrame
    warnings: DataFrame
    options: Dict[str, Any]


def prepare(
    df: DataFrame,
    *,
    existing: Any = None,
    buckets: Optional[int] = None,
    **options: Any,
) -> SparkResult:
    """Prepares a Spark DataFrame for Voucherify's campaign import with the verdicts
    :func:`voucher_import.prepare` gives the same rows in one process (see the module's doc).

    Args:
        df: the vouchers, one row per voucher, in input order.
        existing: the codes already in the project: a Spark DataFrame (its ``code`` column, or
            its only column), any iterable of codes, or paths of files as
            :func:`voucher_import.prepare` reads them (every executor reads them whole: give
            a DataFrame for large lists).
        buckets: the groups the rows are shuffled into (default: Spark's
            ``spark.sql.shuffle.partitions``).
        **options: the options of :func:`voucher_import.prepare` (``campaign_type``,
            ``campaign``, ``keep``, ``rules``, ``disable_rules``, ``case_insensitive_codes``,
            ``campaign_limit``, ...). ``out`` is not one: write the DataFrames where they
            belong, or give a Voucherify-sized part to :func:`voucher_import.prepare`.
    """
    if "out" in options:
        raise UsageError(
            "voucher_import.spark.prepare() writes no folder",
            fix="write the result's DataFrames, or give a Voucherify-sized part of the rows "
            "to voucher_import.prepare(..., out=...)",
        )
    for reserved in (ROW, BUCKET, KIND):
        if reserved in df.columns:
            raise UsageError(f"the DataFrame has a column {reserved}", fix="rename it")
    spark = df.sparkSession
    keep = _strings(options.pop("keep", None))
    disabled = _strings(options.pop("disable_rules", None))
    # The limit is the run's, not a group's.
    group_options = dict(options, keep=keep + [ROW], disable_rules=disabled + ["over_campaign_limit"])

    # The options and the header, checked on the driver before any job (an empty table).
    empty = pa.Table.from_batches([], schema=_arrow_schema(df.schema, [ROW]))
    files = _existing_files(existing)
    dry = _prepare(empty, existing=files or None, **group_options)
    renames = _renames(options)
    settings = dry.summary["options"]
    columns = [c for g in dry.summary.get("column_groups", []) for c in g["columns"]]
    code_column = _code_column(df.columns, options)
    boolean_columns = _boolean_like(df, dry.summary, renames, options)

    indexed = _with_row_numbers(df)
    count = buckets or int(spark.conf.get("spark.sql.shuffle.partitions", "200"))
    rows = indexed.withColumn(BUCKET, _bucket(F.col(code_column), count))

    report_columns = list(df.columns)
    out_schema = _output_schema(columns, keep, report_columns)
    judge = _GroupJudge(
        group_options,
        files,
        columns,
        keep,
        report_columns,
        boolean_columns,
        [f.name for f in out_schema.fields],
    )
    codes = _existing_frame(spark, existing)
    if codes is not None:
        code_of = F.col(codes.columns[0]).cast("string")
        codes = codes.select(code_of.alias("code"), _bucket(code_of, count).alias(BUCKET))
        judged = (
            rows.groupBy(BUCKET)
            .cogroup(codes.groupBy(BUCKET))
            .applyInArrow(_cogrouped(judge), schema=out_schema)
        )
    else:
        judged = rows.groupBy(BUCKET).applyInArrow(_grouped(judge), schema=out_schema)
    judged = judged.persist()

    judged = _campaign_limit(judged, settings)
    types = {f.name: f.dataType for f in df.schema.fields}
    accepted = judged.filter(F.col(KIND) == "accepted")
    accepted = _with_batches(accepted, columns, settings, dry.summary)
    accepted = accepted.select(
        *[F.col(_a(c)).alias(c) for c in columns],
        *[_typed(F.col(_a(c)), types.get(c)).alias(c) for c in keep],
        F.col(ROW).alias("row"),
        F.col("batch"),
    )

    def report(kind: str) -> DataFrame:
        return (
            judged.filter(F.col(KIND) == kind)
            .orderBy(ROW)
            .select(
                F.lit(SOURCE).alias("source"),
                F.col(ROW).alias("row"),
                F.col("rules"),
                F.col("reason"),
                *[
                    (_typed(F.col(_r(c)), types.get(c)) if c in keep else F.col(_r(c))).alias(c)
                    for c in report_columns
                ],
            )
        )

    return SparkResult(
        accepted=accepted,
        rejected=report("rejected"),
        warnings=report("warned"),
        options=settings,
    )


def _bucket(code: Any, count: int) -> Any:
    """The group of a code: a hash of it trimmed, letter case folded, and (all digits) without
    leading zeros, so that a code, its duplicates, its letter-case variants and the code it is
    once zeros are put back share one group."""
    key = F.regexp_replace(code.cast("string"), r"^\s+|\s+$", "")
    key = F.lower(F.when(key.rlike("^[0-9]+$"), F.regexp_replace(key, "^0+", "")).otherwise(key))
    return F.pmod(F.xxhash64(key), F.lit(count))


def _renames(options: Dict[str, Any]) -> Dict[str, str]:
    renames = options.get("rename") or {}
    if isinstance(renames, dict):
        return {str(k): str(v) for k, v in renames.items()}
    return dict(item.split("=", 1) for item in _strings(renames))


def _a(column: str) -> str:
    return f"accepted:{column}"


def _r(column: str) -> str:
    return f"report:{column}"


def _strings(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _fold(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.strip().lower())


def _code_column(columns: Sequence[str], options: Dict[str, Any]) -> str:
    """The input column the engine reads as ``Code`` (after ``rename``)."""
    renames = _renames(options)
    for column in columns:
        if _fold(renames.get(column, column)) == "code":
            return column
    raise UsageError("the DataFrame has no Code column", fix="rename the column that holds the codes")


def _arrow_schema(schema: T.StructType, extra_long: Sequence[str]) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    arrow = to_arrow_schema(schema)
    for name in extra_long:
        arrow = arrow.append(pa.field(name, pa.int64()))
    return arrow


def _with_row_numbers(df: DataFrame) -> DataFrame:
    """``df`` with ``ROW``: each row's 1-based position, dense, in the DataFrame's order (the
    partitions in order, each in its order)."""
    marked = df.withColumn("__vi_id", F.monotonically_increasing_id())
    partition = F.shiftright(F.col("__vi_id"), 33)
    counts = dict(
        marked.groupBy(partition.alias("p")).count().collect()  # one small row per partition
    )
    offsets: Dict[int, int] = {}
    total = 0
    for p in sorted(counts):
        offsets[p] = total
        total += counts[p]
    if not offsets:
        return marked.withColumn(ROW, F.lit(0).cast("long")).drop("__vi_id")
    offset = F.create_map(*[x for p, o in offsets.items() for x in (F.lit(p), F.lit(o))])
    position = F.col("__vi_id").bitwiseAND(F.lit((1 << 33) - 1))
    return marked.withColumn(
        ROW, (F.element_at(offset, partition) + position + F.lit(1)).cast("long")
    ).drop("__vi_id")


def _existing_files(existing: Any) -> List[Path]:
    """Existing codes given as files (a path, or a list of ``os.PathLike``)."""
    if existing is None or isinstance(existing, DataFrame):
        return []
    if is_path(existing):
        return [Path(os.fspath(existing))]
    if isinstance(existing, (list, tuple)) and existing and all(
        isinstance(item, os.PathLike) for item in existing
    ):
        return [Path(os.fspath(item)) for item in existing]
    return []


def _existing_frame(spark: Any, existing: Any) -> Optional[DataFrame]:
    """The existing codes as a one-column DataFrame (None for none, or for files)."""
    if existing is None or _existing_files(existing):
        return None
    if isinstance(existing, DataFrame):
        named = [c for c in existing.columns if c.strip().lower() == "code"]
        if not named and len(existing.columns) != 1:
            raise UsageError(
                "the existing codes' DataFrame has no 'code' column",
                fix="name the column that holds the codes 'code', or give one column",
            )
        return existing.select(named[0] if named else existing.columns[0])
    codes = [str(c) for c in existing]
    return spark.createDataFrame([(c,) for c in codes], "code string")


def _boolean_like(
    df: DataFrame, summary: Dict[str, Any], renames: Dict[str, str], options: Dict[str, Any]
) -> Dict[str, Optional[Any]]:
    """The evidence value of each metadata column for ``empty_in_boolean_column`` (see
    ``_GroupJudge._with_evidence``): ``true`` where the whole column's non-empty values are
    all true or false (any case; ``null`` is neither), at least two, as one process's first
    pass finds; ``x`` where another value is in it. Empty without the rule."""
    if options.get("metadata_schema") is not None:
        return {}
    if "empty_in_boolean_column" in _strings(options.get("disable_rules")):
        return {}
    known = {"Code", "Category", "Active", "Gift Amount", "Redeemed Amount",
             "Redeemed Quantity", "Loyalty Points", "Start Date", "Expiration Date"}
    batch = {c for g in summary.get("column_groups", []) for c in g["columns"]} - known
    metadata = [c for c in df.columns if renames.get(c, c) in batch]
    if not metadata:
        return {}
    aggregates = []
    for column in metadata:
        value = F.lower(F.regexp_replace(F.col(column).cast("string"), r"^\s+|\s+$", ""))
        boolean = value.isin("true", "false")
        other = value.isNotNull() & (value != "") & ~boolean & (value != "null")
        aggregates.append(F.sum(F.when(boolean, 1).otherwise(0)).alias(f"b{len(aggregates)}"))
        aggregates.append(F.sum(F.when(other, 1).otherwise(0)).alias(f"o{len(aggregates)}"))
    totals = list(df.agg(*aggregates).collect()[0])
    types = {f.name: f.dataType for f in df.schema.fields}
    evidence: Dict[str, Optional[Any]] = {}
    for at, column in enumerate(metadata):
        booleans, others = totals[2 * at] or 0, totals[2 * at + 1] or 0
        is_boolean = others == 0 and booleans >= 2
        if isinstance(types[column], T.BooleanType):
            evidence[column] = True if is_boolean else None
        elif isinstance(types[column], T.StringType):
            evidence[column] = "true" if is_boolean else "x"
    return evidence


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


class _GroupJudge:
    """What runs in the executors: one group's rows prepared in input order."""

    def __init__(
        self,
        options: Dict[str, Any],
        files: List[str],
        columns: List[str],
        keep: List[str],
        report: List[str],
        boolean_columns: Dict[str, bool],
        out_names: List[str],
    ) -> None:
        self.options = options
        self.files = files
        self.columns = columns
        self.keep = keep
        self.report = report
        self.boolean_columns = boolean_columns
        self.out_names = out_names

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


def _encoded_len(fields: Sequence[Optional[str]]) -> int:
    """The bytes of a batch record, as the engine encodes it (RFC 4180, CRLF)."""
    size = 0
    for i, field in enumerate(fields):
        text = field or ""
        data = text.encode("utf-8")
        if i:
            size += 1
        if any(ch in text for ch in ',"\r\n'):
            size += len(data) + data.count(b'"') + 2
        else:
            size += len(data)
    if len(fields) == 1 and size == 0:
        size = 2
    return size + 2


def _limit_reason(limit: int, in_campaign: int, accepted_before: int) -> str:
    return (
        f"the campaign limit of {limit} codes is reached ({in_campaign} already in the campaign, "
        f"{accepted_before} accepted before this row)"
    )


def _campaign_limit(judged: DataFrame, settings: Dict[str, Any]) -> DataFrame:
    """The accepted rows past the campaign's room in input order rejected, as one process
    rejects them; a row rejected as a duplicate of such a row loses that finding."""
    limit = int(settings.get("campaign_limit") or 0)
    in_campaign = int(settings.get("codes_in_campaign") or 0)
    room = max(limit - in_campaign, 0)
    cut = (
        judged.filter(F.col(KIND) == "accepted")
        .select(ROW)
        .orderBy(ROW)
        .limit(room + 1)
        .agg(F.count(F.lit(1)).alias("n"), F.max(ROW).alias("last"))
        .collect()[0]
    )
    if cut["n"] <= room:
        return judged
    first_over = cut["last"]  # the room+1-th accepted row: the first one past the limit
    reason = _limit_reason(limit, in_campaign, room)
    over = F.col(ROW) >= F.lit(first_over)
    # Accepted rows past the limit: rejected; their warnings go with them.
    judged = judged.filter(~(over & (F.col(KIND) == "warned")))
    # A duplicate of a row past the limit is no duplicate: that row never went in.
    repeated = F.regexp_extract(F.col("reason"), rf"repeats row (\d+) of {SOURCE}", 1)
    moot = (
        over
        & (F.col(KIND) == "rejected")
        & F.array_contains(F.split(F.col("rules"), r"\|"), "duplicate_code")
        & (repeated != "")
        & (repeated.try_cast("long") >= F.lit(first_over))
    )
    others = F.array_remove(F.split(F.col("rules"), r"\|"), "duplicate_code")
    stripped = F.udf(_without_duplicate, T.StringType())(F.col("reason"), repeated)
    now_over = over & (F.col(KIND) == "accepted")
    # One select: every new value is computed from the old ones.
    return judged.select(
        *[
            F.when(now_over, F.lit("rejected")).otherwise(F.col(KIND)).alias(KIND)
            if name == KIND
            else F.when(now_over | (moot & (F.size(others) == 0)), F.lit("over_campaign_limit"))
            .when(moot, F.array_join(others, "|"))
            .otherwise(F.col("rules"))
            .alias("rules")
            if name == "rules"
            else F.when(now_over | (moot & (F.size(others) == 0)), F.lit(reason))
            .when(moot, stripped)
            .otherwise(F.col("reason"))
            .alias("reason")
            if name == "reason"
            else F.col(f"`{name}`")
            for name in judged.columns
        ]
    )


def _without_duplicate(reason: Optional[str], row: str) -> Optional[str]:
    """A reason without its ``duplicate_code`` part (``Code '…' repeats row N of table``)."""
    if reason is None:
        return None
    part = re.search(rf"(^|; )Code '.*?' repeats row {re.escape(row)} of {SOURCE}(?=; |$)", reason)
    if part is None:
        return reason
    start, end = part.span()
    if part.group(1) == "" and reason[end:].startswith("; "):
        end += 2
    return reason[:start] + reason[end:]


def _with_batches(
    accepted: DataFrame, columns: Sequence[str], settings: Dict[str, Any], summary: Dict[str, Any]
) -> DataFrame:
    """``batch``: the import batch of each accepted row, cut in input order as the engine cuts
    them (a new batch when the record does not fit the bytes or rows left; the canary first)."""
    max_bytes = int(settings.get("max_file_bytes") or 9_999_488)
    max_rows = int(settings.get("batch_rows") or 100_000)
    canary = int(settings.get("canary_rows") or 0)
    header = _encoded_len(list(columns))
    sizes = accepted.select(ROW, "bytes").orderBy(ROW).toArrow()
    starts: List[int] = []  # the first row of each batch, by batch
    batch, used, rows = 0, 0, 0
    for row, size in zip(sizes.column(ROW).to_pylist(), sizes.column("bytes").to_pylist()):
        limit_rows = min(canary, max_rows) if batch == 1 and canary else max_rows
        if batch == 0 or used + size > max_bytes or rows >= limit_rows:
            batch += 1
            used, rows = header, 0
            starts.append(row)
        used += size
        rows += 1
    if not starts:
        return accepted.withColumn("batch", F.lit(None).cast("int"))
    # A row's batch: how many batches start at or before it.
    first_rows = F.array(*[F.lit(r).cast("long") for r in starts])
    return accepted.withColumn(
        "batch", F.size(F.filter(first_rows, lambda first: first <= F.col(ROW))).cast("int")
    )


def _typed(column: Any, kind: Any) -> Any:
    """A kept column's text in its input type, when the text casts back exactly."""
    if kind is None or not isinstance(kind, _ROUND_TRIP) or isinstance(kind, T.StringType):
        return column
    return column.cast(kind)
