"""What is global: each row's input position, the campaign limit in input order, and the batch
cut, over the groups' verdicts."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

import pyarrow as pa

from ._groups import KIND, ROW, SOURCE, _encoded_lengths


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
    # The header is encoded as a record.
    header = _encoded_lengths([pa.array([c], pa.string()) for c in columns])[0].as_py()
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
