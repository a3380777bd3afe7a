#!/usr/bin/env python3
"""The runner behind benches/compare.sh: times voucher-import, DuckDB and the floor on the same
file, alternating (ours, DuckDB, floor, ours, ...), and prints the median of each measure and the
ratios as a Markdown table. Wall time from a monotonic clock; CPU time and peak RSS from the
child's rusage (wait4), which counts the process and all its threads."""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time


def measure(argv, stdout_path):
    """Runs argv once; returns (wall s, user s, sys s, peak RSS bytes)."""
    with open(stdout_path, "wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - started
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    # voucher-import exits 1 when rows were rejected: that is a successful run here.
    if code not in (0, 1):
        sys.exit(f"compare: {' '.join(argv)} failed with exit code {code}:\n{stderr}")
    return wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser()
    for name in ["rows", "repeats", "threads"]:
        ap.add_argument(f"--{name}", type=int, required=True)
    for name in ["data", "existing", "work", "ours", "floor", "duckdb-job"]:
        ap.add_argument(f"--{name}", required=True)
    args = ap.parse_args()

    out_ours = os.path.join(args.work, f"out_ours_{args.rows}")
    out_duck = os.path.join(args.work, f"out_duckdb_{args.rows}")
    commands = {
        "voucher-import": [
            args.ours, "prepare", args.data, "--campaign-type", "gift",
            "--existing", args.existing, "--campaign-limit", "1000000000",
            "--threads", str(args.threads), "--out", out_ours, "--force",
        ],
        "DuckDB": [
            sys.executable, args.duckdb_job, args.data, args.existing, out_duck,
            "--threads", str(args.threads),
        ],
        "floor (csv crate)": [args.floor, args.data],
    }
    runs = {name: [] for name in commands}
    for repeat in range(args.repeats):
        for name, argv in commands.items():
            stdout_path = os.path.join(args.work, f"stdout_{len(runs[name])}.txt")
            runs[name].append(measure(argv, stdout_path))
            if name == "DuckDB":
                with open(stdout_path) as f:
                    duck_counts = f.read().split()
            print(f"run {repeat + 1}/{args.repeats} {name}: {runs[name][-1][0]:.2f} s",
                  file=sys.stderr)

    size = os.path.getsize(args.data)
    with open(os.path.join(out_ours, "summary.json")) as f:
        summary = json.load(f)
    ours_counts = [str(summary["accepted"]), str(summary["rejected"])]

    medians = {}
    for name, samples in runs.items():
        wall = statistics.median(s[0] for s in samples)
        user = statistics.median(s[1] for s in samples)
        system = statistics.median(s[2] for s in samples)
        rss = statistics.median(s[3] for s in samples)
        medians[name] = (wall, user, system, rss)

    print(f"## {args.rows:,} rows ({size / 1e6:.1f} MB), median of {args.repeats}, "
          f"{args.threads} threads")
    print()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}; "
          f"python duckdb {__import__('duckdb').__version__}")
    print()
    print("| command | wall | user + sys CPU | CPU use | throughput | peak RSS | all walls |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, (wall, user, system, rss) in medians.items():
        walls = ", ".join(f"{s[0]:.2f}" for s in runs[name])
        print(f"| {name} | {wall:.2f} s | {user:.2f} + {system:.2f} s | "
              f"{(user + system) / wall:.0%} | {size / wall / 1e6:.0f} MB/s | "
              f"{rss / 2**20:.0f} MiB | {walls} |")
    ours, duck, floor = (medians[n] for n in commands)
    print()
    print(f"- wall, ours / DuckDB: {ours[0] / duck[0]:.2f} (target <= 0.33)")
    print(f"- wall, ours / floor: {ours[0] / floor[0]:.2f} (target <= 3)")
    print(f"- peak RSS, ours / DuckDB: {ours[3] / duck[3]:.2f} (target <= 0.5)")
    print(f"- accepted, rejected: ours {', '.join(ours_counts)}; DuckDB {', '.join(duck_counts)}")
    if ours_counts != duck_counts:
        print("- **the counts differ: the two jobs did not do the same work on this file**")
    shutil.rmtree(out_duck, ignore_errors=True)


if __name__ == "__main__":
    main()
