"""The Python package against the command line on the same job: the generated gift-card file
of compare.sh, prepared with its existing codes, each way in a fresh process (peak RSS is the
process's), alternating, median of REPEATS.

    python benches/python.py /tmp/voucher-import-bench/gift_1000000.csv \\
        /tmp/voucher-import-bench/existing_1000000.csv path/to/voucher-import

Run it with the python of a venv where ./python is installed (pip install ./python).
The ways:
  cli          voucher-import prepare FILE --out DIR (the binary)
  py-path      voucher_import.prepare(FILE): tables in memory, nothing written
  py-path-out  voucher_import.prepare(FILE, out=DIR): tables and the folder
  py-table     pyarrow.csv.read_csv(FILE, all binary) then voucher_import.prepare(table)
               (the read is timed apart and not counted; pyarrow skips the file's malformed
               records, so this way has a few rows less)
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPEATS = int(os.environ.get("REPEATS", "3"))

CHILD = r"""
import json, resource, sys, time
import pyarrow as pa, pyarrow.csv as pacsv
import voucher_import
way, data, existing, out = sys.argv[1:5]
read = 0.0
source = data
if way == "py-table":
    started = time.perf_counter()
    header = open(data, encoding="utf-8").readline().strip().split(",")
    # Binary columns (the generator writes bytes that are not UTF-8, which a string column
    # refuses; the engine rejects them row by row); its malformed records are skipped.
    source = pacsv.read_csv(data, convert_options=pacsv.ConvertOptions(
        column_types={name: pa.binary() for name in header}, strings_can_be_null=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip",
                                         newlines_in_values=True))
    read = time.perf_counter() - started
started = time.perf_counter()
result = voucher_import.prepare(source, campaign_type="gift", existing=[existing],
    campaign_limit=10**9, out=out if way == "py-path-out" else None)
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "read": read, "accepted": result.summary["accepted"],
    "rejected": result.summary["rejected"],
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


CLI_WRAPPER = r"""
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(done.stdout)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run(way: str, data: str, existing: str, binary: str, scratch: str) -> dict:
    out = os.path.join(scratch, "out")
    shutil.rmtree(out, ignore_errors=True)
    if way == "cli":
        # Through a wrapper process, whose only child is the binary: its peak RSS is the
        # binary's alone.
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", CLI_WRAPPER, binary, "prepare", data, "--campaign-type",
             "gift", "--existing", existing, "--campaign-limit", str(10**9), "--out", out,
             "--json", "--quiet"],
            capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - started
        summary_text, peak = done.stdout.rsplit("\n", 2)[0], done.stdout.split()[-1]
        summary = json.loads(summary_text)
        return {"seconds": elapsed, "read": 0.0, "accepted": summary["accepted"],
                "rejected": summary["rejected"], "peak_mb": float(peak) / 1024}
    done = subprocess.run([sys.executable, "-c", CHILD, way, data, existing, out],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    data, existing, binary = sys.argv[1:4]
    ways = ["cli", "py-path", "py-path-out", "py-table"]
    results: dict = {way: [] for way in ways}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(REPEATS):
            for way in ways:
                results[way].append(run(way, data, existing, binary, scratch))
    print(f"{'way':<12} {'median s':>9} {'read s':>7} {'peak MB':>8}  accepted/rejected")
    for way in ways:
        runs = results[way]
        counts = {(r["accepted"], r["rejected"]) for r in runs}
        print(f"{way:<12} {statistics.median(r['seconds'] for r in runs):>9.2f} "
              f"{statistics.median(r['read'] for r in runs):>7.2f} "
              f"{max(r['peak_mb'] for r in runs):>8.0f}  {sorted(counts)}")


if __name__ == "__main__":
    main()
