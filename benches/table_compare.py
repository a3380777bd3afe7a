#!/usr/bin/env python3
"""A table already in memory, prepared side by side: voucher-import (a pyarrow Table, a Polars
DataFrame, a pandas DataFrame with Arrow-backed strings, and `Import::run_arrow` from Rust)
against Polars and DuckDB doing the same job on the same table, and voucher-import's file path
on the file the table was read from.

    python benches/table_compare.py 1000000          # rows (default 1000000)
    REPEATS=5 python benches/table_compare.py 10000000

Run it with the python of a venv where ./python, polars, duckdb and pandas are installed
(pip install ./python polars duckdb pandas). The Rust way needs the release example
(cargo build --release -p run-arrow-job), the file way the release binary; both are
built here when missing.

The table: the generated gift-card file of compare.sh (benches/gen_vouchers.py, kept in
BENCH_DIR), read once into an Arrow IPC file of text columns (BENCH_DIR/gift_N.arrow): the
file's malformed records are left out (a table has none), and bytes that are not UTF-8 are
decoded as U+FFFD, as a lossy reader leaves them. Each way runs in a fresh process that loads
the table before its clock starts; a Polars or pandas source is converted before the clock too.

The job, for every way (what `voucher-import prepare --campaign-type gift --existing FILE`
does on these rows): trim every value, empty means missing; reject a row with a value holding
U+FFFD (invalid_encoding), without a code (code_required), with Active not true/false
(active_boolean), with an amount or quantity that is not a non-negative whole number
(invalid_number), redeemed over the gift amount (redeemed_over_balance), with a code among
the existing ones (existing_code); of the codes left, the first occurrence wins and later ones
are rejected (duplicate_code); the accepted rows in input order with Active lowercased, the
rejected rows with their reason, both as tables in memory. The accepted and rejected counts of
every way are checked equal.

Measured per way: the job's wall time and CPU time (user + system of the process, from the
clock's start), and the memory beyond the table: the peak resident set during the job (the
peak is reset after the load, /proc/self/clear_refs) minus the resident set once the table
was loaded. Median of REPEATS (default 3), ways alternating.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/voucher-import-bench")
REPEATS = int(os.environ.get("REPEATS", "3"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/voucher-import/target"))

COLUMNS = ["Code", "Active", "Category", "Gift Amount", "Redeemed Amount", "Redeemed Quantity",
           "region", "tier", "issued_on", "priority", "vip", "note"]
NUMBERS = ["Gift Amount", "Redeemed Amount", "Redeemed Quantity"]

# What every child does around its job: load the table, reset the peak, time the job, report.
CHILD_HEAD = r"""
import json, os, resource, sys, time
import pyarrow as pa, pyarrow.ipc

def rss_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

table_path, existing_path = sys.argv[1:3]
with pa.memory_map(table_path) as source:
    table = pa.ipc.open_file(source).read_all()
# Owned memory, not pages of the mapped file.
table = pa.concat_tables([table]).combine_chunks()
"""

CHILD_TAIL = r"""
loaded_kb = rss_kb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
started, cpu_started = time.perf_counter(), cpu()
accepted, rejected = job()
seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
print(json.dumps({"seconds": seconds, "cpu": cpu_seconds, "accepted": accepted,
    "rejected": rejected, "beyond_mb": (rss_kb("VmHWM") - loaded_kb) / 1024,
    "table_mb": table.nbytes / 2**20}))
"""

VOUCHER_IMPORT = r"""
import voucher_import
existing = [existing_path]
def job():
    result = voucher_import.prepare(source, campaign_type="gift", existing=existing,
                                    campaign_limit=10**9)
    return result.accepted.num_rows, result.rejected.num_rows
"""

SOURCES = {
    "voucher-import, pyarrow Table": "source = table",
    "voucher-import, Polars DataFrame": "import polars as pl\nsource = pl.from_arrow(table)",
    "voucher-import, pandas (Arrow strings)":
        "import pandas as pd\nsource = table.to_pandas(types_mapper=pd.ArrowDtype)",
}

POLARS = r"""
import polars as pl
frame = pl.from_arrow(table)
existing = pl.read_csv(existing_path, infer_schema=False).select(
    pl.col("code").str.strip_chars().alias("Code")).unique()
COLUMNS = %(columns)r
NUMBERS = %(numbers)r
def job():
    trimmed = [pl.col(c).str.strip_chars().replace("", None).alias(c) for c in COLUMNS]
    lazy = frame.lazy().with_row_index("rn").with_columns(trimmed)
    known = existing.lazy().with_columns(pl.lit(True).alias("existing"))
    bad_number = pl.any_horizontal(
        [pl.col(c).is_not_null() & ~pl.col(c).str.contains(r"^[0-9]+$") for c in NUMBERS])
    damaged = pl.any_horizontal([pl.col(c).str.contains("\ufffd", literal=True).fill_null(False)
                                 for c in COLUMNS])
    rule = (pl.when(damaged).then(pl.lit("invalid_encoding"))
        .when(pl.col("Code").is_null()).then(pl.lit("code_required"))
        .when(~pl.col("Active").str.to_lowercase().is_in(["true", "false"]).fill_null(False))
            .then(pl.lit("active_boolean"))
        .when(bad_number).then(pl.lit("invalid_number"))
        .when(pl.col("Redeemed Amount").cast(pl.Decimal(38, 0), strict=False)
              > pl.col("Gift Amount").cast(pl.Decimal(38, 0), strict=False))
            .then(pl.lit("redeemed_over_balance"))
        .when(pl.col("existing").fill_null(False)).then(pl.lit("existing_code")))
    judged = (lazy.join(known, on="Code", how="left", maintain_order="left")
        .with_columns(rule.alias("rule"))
        .with_columns(pl.when(pl.col("rule").is_null()
                              & (pl.col("rn").rank("ordinal").over("Code", pl.col("rule").is_null()) > 1))
                      .then(pl.lit("duplicate_code")).otherwise(pl.col("rule")).alias("reason")))
    checked = judged.collect()
    accepted = (checked.filter(pl.col("reason").is_null())
        .with_columns(pl.col("Active").str.to_lowercase()).select(COLUMNS))
    rejected = checked.filter(pl.col("reason").is_not_null()).select(["rn", "reason", *COLUMNS])
    return accepted.height, rejected.height
""" % {"columns": COLUMNS, "numbers": NUMBERS}

DUCKDB = r"""
import duckdb
sys.path.insert(0, %(benches)r)
from duckdb_job import checked_sql, ident
COLUMNS = %(columns)r
con = duckdb.connect()
con.execute(f"SET threads = {os.cpu_count()}")
con.execute("SET preserve_insertion_order = true")
def arrow_table(query):
    # A relation's result as a pyarrow Table (DuckDB 2 names it to_arrow_table, DuckDB 1 arrow).
    relation = con.sql(query)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()
def job():
    con.register("src", table)
    con.execute("CREATE TABLE existing AS SELECT DISTINCT trim(code) AS existing_code "
                "FROM read_csv(?, header = true, all_varchar = true)", [existing_path])
    # The rules of benches/duckdb_job.py, and the encoding check a table needs.
    con.execute(checked_sql("(SELECT row_number() OVER () AS rn, * FROM src)",
                            check_encoding=True))
    select = ", ".join(f"lower({ident(c)}) AS {ident(c)}" if c == "Active" else ident(c)
                       for c in COLUMNS)
    accepted = arrow_table(f"SELECT {select} FROM checked WHERE reason IS NULL ORDER BY rn")
    rejected = arrow_table(
        f"SELECT rn, reason, {', '.join(ident(c) for c in COLUMNS)} FROM checked "
        "WHERE reason IS NOT NULL ORDER BY rn")
    return accepted.num_rows, rejected.num_rows
""" % {"columns": COLUMNS, "benches": os.path.join(REPO, "benches")}


def children():
    ways = {name: VOUCHER_IMPORT.replace("existing = [existing_path]",
                                         source + "\nexisting = [existing_path]")
            for name, source in SOURCES.items()}
    ways["Polars (lazy, the same rules)"] = POLARS
    ways["DuckDB (SQL, the same rules)"] = DUCKDB
    return {name: CHILD_HEAD + body + CHILD_TAIL for name, body in ways.items()}


def generate(rows: int) -> tuple[str, str, str]:
    """The generated file, its existing codes, and the table of its rows as an Arrow file."""
    os.makedirs(BENCH_DIR, exist_ok=True)
    data = os.path.join(BENCH_DIR, f"gift_{rows}.csv")
    existing = os.path.join(BENCH_DIR, f"existing_{rows}.csv")
    table_path = os.path.join(BENCH_DIR, f"gift_{rows}.arrow")
    if not (os.path.getsize(data) if os.path.exists(data) else 0) or not os.path.exists(existing):
        print(f"generating {rows} rows into {data} ...", file=sys.stderr)
        subprocess.run([sys.executable, os.path.join(REPO, "benches", "gen_vouchers.py"),
                        "--rows", str(rows), "--out", data + ".tmp", "--existing", existing],
                       check=True)
        os.replace(data + ".tmp", data)
    if not os.path.exists(table_path):
        print(f"reading {data} into {table_path} ...", file=sys.stderr)
        # In a process of its own: this one forks the measured ways, and a child's peak
        # resident set would start from this process's.
        subprocess.run([sys.executable, os.path.abspath(__file__), "--make-table", data,
                        table_path], check=True)
    return data, existing, table_path


def make_table(data: str, table_path: str) -> None:
    """The rows of the generated file as an Arrow IPC file of text columns."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.ipc
    with open(data, encoding="utf-8", errors="replace", newline="") as f:
        header = f.readline().rstrip("\r\n").split(",")
    binary = pacsv.read_csv(data, convert_options=pacsv.ConvertOptions(
        column_types={name: pa.binary() for name in header}, strings_can_be_null=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip",
                                         newlines_in_values=True))
    columns = {}
    for name in binary.column_names:
        values = binary.column(name).combine_chunks()
        try:
            columns[name] = values.cast(pa.string())
        except pa.ArrowInvalid:
            columns[name] = pa.array(
                [v.decode("utf-8", "replace") for v in values.to_pylist()], pa.string())
    table = pa.table(columns)
    with pa.OSFile(table_path + ".tmp", "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=65536)
    os.replace(table_path + ".tmp", table_path)


def build() -> tuple[str, str]:
    """The release binary (the file way) and the Rust job (run_arrow); two plain builds of
    packages that pull no dev-dependencies."""
    binary = os.path.join(TARGET, "release", "voucher-import")
    example = os.path.join(TARGET, "release", "run-arrow-job")
    print("building the release binary and the run_arrow job ...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "-p",
                    "voucher-import", "--bin", "voucher-import"], cwd=REPO, check=True)
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "-p", "run-arrow-job"],
                   cwd=REPO, check=True)
    return binary, example


def run_json(argv: list[str]) -> dict:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"table_compare: {' '.join(argv[:3])} failed ({done.returncode}):\n"
                 f"{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def file_way(binary: str, data: str, existing: str) -> dict:
    """voucher-import's file path on the whole file: wall, CPU and peak RSS from wait4."""
    import time
    out = os.path.join(BENCH_DIR, "out_table_compare")
    argv = [binary, "prepare", data, "--campaign-type", "gift", "--existing", existing,
            "--campaign-limit", "1000000000", "--out", out, "--force"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"table_compare: {' '.join(argv)} failed")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "accepted": summary["accepted"], "rejected": summary["rejected"],
            "beyond_mb": usage.ru_maxrss / 1024, "table_mb": 0.0}


def main() -> None:
    if sys.argv[1:2] == ["--make-table"]:
        make_table(sys.argv[2], sys.argv[3])
        return
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    data, existing, table_path = generate(rows)
    binary, example = build()
    ways = {name: [sys.executable, "-c", code, table_path, existing]
            for name, code in children().items()}
    ways["voucher-import, run_arrow from Rust"] = [example, table_path, existing]
    runs: dict[str, list[dict]] = {name: [] for name in [*ways, "voucher-import, the file"]}
    for repeat in range(REPEATS):
        for name, argv in ways.items():
            runs[name].append(run_json(argv))
            print(f"run {repeat + 1}/{REPEATS} {name}: {runs[name][-1]['seconds']:.2f} s",
                  file=sys.stderr)
        runs["voucher-import, the file"].append(file_way(binary, data, existing))

    median = {name: {key: statistics.median(run[key] for run in samples)
                     for key in ("seconds", "cpu", "beyond_mb", "table_mb")}
              for name, samples in runs.items()}
    table_mb = median["voucher-import, pyarrow Table"]["table_mb"]
    print(f"## A table in memory, {rows:,} rows ({table_mb:.0f} MB of Arrow text columns), "
          f"median of {REPEATS}")
    print()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}")
    print()
    print("| way | job time | CPU time | memory beyond the table | accepted | rejected |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, samples in runs.items():
        m = median[name]
        memory = (f"{m['beyond_mb']:,.0f} MB (whole process)" if name.endswith("the file")
                  else f"{m['beyond_mb']:,.0f} MB")
        print(f"| {name} | {m['seconds']:.2f} s | {m['cpu']:.2f} s | {memory} | "
              f"{samples[-1]['accepted']:,} | {samples[-1]['rejected']:,} |")
    ours, polars = median["voucher-import, pyarrow Table"], median["Polars (lazy, the same rules)"]
    duck, the_file = median["DuckDB (SQL, the same rules)"], median["voucher-import, the file"]
    print()
    print(f"- job time, pyarrow Table / Polars: {ours['seconds'] / polars['seconds']:.2f} "
          "(target <= 0.5)")
    print(f"- job time, pyarrow Table / the file: {ours['seconds'] / the_file['seconds']:.2f} "
          "(target <= 1)")
    print(f"- memory beyond the table, pyarrow Table / DuckDB: "
          f"{ours['beyond_mb'] / max(duck['beyond_mb'], 1):.2f} (target <= 1)")
    counts = {(s[-1]["accepted"], s[-1]["rejected"])
              for name, s in runs.items() if not name.endswith("the file")}
    if len(counts) != 1:
        print("- **the counts differ: the ways did not do the same work on this table**")
    else:
        print("- every way on the table: the same accepted and rejected counts")


if __name__ == "__main__":
    main()
