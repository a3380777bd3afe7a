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

from .. import prepare as _prepare
from .._arguments import is_path
from ..errors import UsageError
from ._global import _campaign_limit, _with_batches, _with_row_numbers
from ._groups import (
    BUCKET,
    KIND,
    ROW,
    SOURCE,
    _a,
    _cogrouped,
    _GroupJudge,
    _grouped,
    _output_schema,
    _r,
)
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
    group_options = dict(options, keep=keep + [ROW], disable_rules=sorted(set(disabled) | {"over_campaign_limit"}))

    # The options and the header, checked on the driver before any job (an empty table).
    empty = pa.Table.from_batches([], schema=_arrow_schema(df.schema, [ROW]))
    files = _existing_files(existing)
    dry = _prepare(empty, existing=files or None, **group_options)
    renames = _renames(options)
    settings = dry.summary["options"]
    columns = [c for g in dry.summary.get("column_groups", []) for c in g["columns"]]
    code_column = _code_column(df.columns, options)
    boolean_columns = _boolean_like(df, dry.summary, renames, dict(options, disable_rules=disabled))

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

    if "over_campaign_limit" not in disabled:
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


def _typed(column: Any, kind: Any) -> Any:
    """A kept column's text in its input type, when the text casts back exactly."""
    if kind is None or not isinstance(kind, _ROUND_TRIP) or isinstance(kind, T.StringType):
        return column
    return column.cast(kind)
