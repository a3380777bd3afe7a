"""voucher_import.spark.prepare in local mode (``local[2]``): the accepted, rejected and warned
rows, and the batch each accepted row goes into, are those one process gives the same rows,
with duplicates across partitions, letter-case variants, existing codes, an empty boolean
cell and the campaign limit."""

from __future__ import annotations

import csv
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pyarrow as pa
import pytest

pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover - the machine has Java 17
    pytest.skip("PySpark needs Java", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

import voucher_import  # noqa: E402
from voucher_import import spark as vi_spark  # noqa: E402


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("voucher-import-test")
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


def vouchers() -> Dict[str, List[Any]]:
    """40 rows: duplicates far apart (other partitions), a letter-case variant, an existing
    code, an all-digit code stripped of its zeros, bad values, an empty boolean cell."""
    codes = [f"GC-{i:03d}" for i in range(1, 31)]
    codes[12] = "GC-001"  # duplicate of row 1, another partition
    codes[25] = "gc-002"  # letter-case variant of row 2
    codes[27] = "OLD-1"  # existing
    codes[3] = "123"  # 000123 existing, stripped
    codes += ["GC-005", "GC-040", "", "GC-041", "GC-042", "GC-030", "GC-043", "GC-044", "GC-045", "GC-046"]
    amounts = ["1000"] * len(codes)
    amounts[6] = "12.50"  # invalid_number (minor units)
    amounts[31] = "abc"  # invalid_number, and a duplicate of nothing
    newsletter = ["true" if i % 3 else "false" for i in range(len(codes))]
    newsletter[9] = ""  # empty_in_boolean_column
    return {
        "order_id": list(range(1001, 1001 + len(codes))),
        "Code": codes,
        "Gift Amount": amounts,
        "newsletter": newsletter,
    }


OPTIONS: Dict[str, Any] = {
    "campaign": {"id": "camp_1", "campaign_type": "GIFT_VOUCHERS", "vouchers_count": 5},
    "campaign_limit": 30,
    "keep": ["order_id"],
    "batch_rows": 7,
    "canary_rows": 3,
}
EXISTING = ["OLD-1", "000123"]


def listed(table: Any) -> List[Tuple[Any, ...]]:
    return sorted(
        (r["order_id"], r["row"], r["rules"], r["reason"]) for r in table
    )


def test_the_verdicts_are_those_of_one_process(spark: SparkSession, tmp_path: Path) -> None:
    data = vouchers()
    single = voucher_import.prepare(
        pa.table(data), existing=EXISTING, out=tmp_path / "one", **OPTIONS
    )
    rows = list(zip(*data.values()))
    df = spark.createDataFrame(
        spark.sparkContext.parallelize(rows, 4),
        "order_id long, Code string, `Gift Amount` string, newsletter string",
    )
    assert df.rdd.getNumPartitions() == 4
    result = vi_spark.prepare(df, existing=EXISTING, **OPTIONS)

    accepted = result.accepted.collect()
    one_accepted = single.accepted.to_pylist()
    assert sorted((r["order_id"], r["Code"], r["Gift Amount"], r["newsletter"]) for r in accepted) == sorted(
        (r["order_id"], r["Code"], r["Gift Amount"], r["newsletter"]) for r in one_accepted
    )
    assert result.accepted.schema["order_id"].dataType.typeName() == "long"

    rejected = [r.asDict() for r in result.rejected.collect()]
    assert listed(rejected) == listed(single.rejected.to_pylist())
    rules = {r["rules"] for r in rejected}
    assert {"duplicate_code", "existing_code", "invalid_number", "over_campaign_limit"} <= rules
    warned = [r.asDict() for r in result.warnings.collect()]
    assert listed(warned) == listed(single.warnings.to_pylist())
    assert {"case_variant_code", "empty_in_boolean_column", "excel_mangled_code"} <= {
        w["rules"] for w in warned
    }

    # The batch cut: origins.csv of the one-process folder says each row's batch.
    with open(tmp_path / "one" / "origins.csv", newline="") as f:
        batches = {int(o["order_id"]): int(o["batch"]) for o in csv.DictReader(f)}
    assert {r["order_id"]: r["batch"] for r in accepted} == batches
    assert len(set(batches.values())) >= 4, batches


def test_existing_codes_as_a_dataframe_and_the_limit_cut_inside_duplicates(
    spark: SparkSession,
) -> None:
    # Room for 2: the third accepted row is over the limit, and so is the later duplicate of
    # it (one process never took it in).
    data = {"order_id": [1, 2, 3, 4, 5], "Code": ["A", "B", "C", "OLD", "C"]}
    options = dict(
        campaign={"id": "camp_1", "campaign_type": "GIFT_VOUCHERS", "vouchers_count": 0},
        campaign_limit=2,
        keep="order_id",
    )
    single = voucher_import.prepare(pa.table(data), existing=["OLD"], **options)
    df = spark.createDataFrame(spark.sparkContext.parallelize(list(zip(*data.values())), 2), "order_id long, Code string")
    codes = spark.createDataFrame([("OLD",)], "code string")
    result = vi_spark.prepare(df, existing=codes, **options)
    got = listed(r.asDict() for r in result.rejected.collect())
    assert got == listed(single.rejected.to_pylist())
    assert [g[2] for g in got] == ["over_campaign_limit", "existing_code", "over_campaign_limit"]


def test_out_is_refused(spark: SparkSession) -> None:
    df = spark.createDataFrame([("A",)], "Code string")
    with pytest.raises(voucher_import.UsageError):
        vi_spark.prepare(df, campaign_type="gift", out="/tmp/x")
