#!/usr/bin/env python3
"""voucher_import.spark.prepare against voucher_import.prepare on the same rows.

    python benches/spark.py DATA.csv [--master local[2]] [--buckets N]

DATA is a CSV from benches/gen_vouchers.py. It is read as text by Spark (every column a
string, as the engine reads a CSV) and by one process from the file. Both runs are timed to
the end: every verdict computed (Spark: the accepted and rejected rows counted after the
campaign limit and the batch cut), and their counts are printed side by side, which must be
equal (a row the generator made ragged or not UTF-8 is read by Spark's CSV reader its own
way: compare on generated data without those defects, or read the counts with that in mind).
Peak memory is the process's (the driver's; executors in local mode are its threads, their
Python workers are other processes: see the note it prints).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--buckets", type=int, default=None)
    ap.add_argument("--campaign-limit", type=int, default=100_000_000)
    args = ap.parse_args()

    import voucher_import
    from pyspark.sql import SparkSession
    from voucher_import import spark as vi_spark

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    options = dict(campaign_type="gift", campaign_limit=args.campaign_limit, canary_rows=0)

    started = time.perf_counter()
    one = voucher_import.prepare(args.data, **options)
    one_seconds = time.perf_counter() - started
    print(
        f"one process: {one.summary['accepted']} accepted, {one.summary['rejected']} rejected, "
        f"{one.summary['warnings']} warned in {one_seconds:.1f} s"
    )

    spark = (
        SparkSession.builder.master(args.master)
        .config("spark.driver.memory", "8g")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    # RFC 4180 as the generator writes it: quoted fields may hold line breaks and doubled
    # quotes (multiLine reads the file in one task, in order).
    df = (
        spark.read.option("header", True)
        .option("inferSchema", False)
        .option("multiLine", True)
        .option("escape", '"')
        .csv(args.data)
    )
    started = time.perf_counter()
    result = vi_spark.prepare(df, buckets=args.buckets, **options)
    accepted = result.accepted.count()
    rejected = result.rejected.count()
    warned = result.warnings.count()
    spark_seconds = time.perf_counter() - started
    print(
        f"spark {args.master}: {accepted} accepted, {rejected} rejected, {warned} warned "
        f"in {spark_seconds:.1f} s ({spark_seconds / one_seconds:.1f}x one process)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: driver {peak:.0f} MB, largest child (JVM / Python worker) {children:.0f} MB")
    spark.stop()


if __name__ == "__main__":
    main()
