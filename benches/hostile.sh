#!/usr/bin/env bash
# Memory and time on the inputs a hostile world brings: a small gzip of huge records, thousands
# of tiny files under a low open-files limit, a header 100,000 columns wide. Prints, for each,
# the exit code, wall time and peak RSS (rusage via wait4) of the release binary.
#
#   benches/hostile.sh
#
# Environment:
#   BENCH_DIR         scratch folder for the generated inputs and outputs (default
#                     /tmp/voucher-import-hostile); inputs are kept between runs
#   CARGO_TARGET_DIR  as for cargo (default $HOME/.cache/voucher-import/target)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_dir="${BENCH_DIR:-/tmp/voucher-import-hostile}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/voucher-import/target}"
mkdir -p "$bench_dir"

echo "building voucher-import (release) ..." >&2
(cd "$repo" && cargo build --release -q -p voucher-import --bin voucher-import)
bin="$CARGO_TARGET_DIR/release/voucher-import"

# The inputs, made once.
python3 - "$bench_dir" <<'EOF'
import gzip, os, sys
d = sys.argv[1]
big = os.path.join(d, "rows_20000x100KB.csv.gz")
if not os.path.exists(big):
    with gzip.open(big + ".tmp", "wt", compresslevel=6) as f:
        f.write("Code,note\n")
        pad = "x" * 100_000
        for i in range(20_000):
            f.write(f"BR-{i:06},{pad}\n")
    os.rename(big + ".tmp", big)
files = os.path.join(d, "files_5000")
if not os.path.isdir(files):
    os.makedirs(files + ".tmp")
    for i in range(5000):
        with open(os.path.join(files + ".tmp", f"part-{i:05}.csv"), "w") as f:
            f.write(f"Code,Active\nF-{i}-A,true\nF-{i}-B,true\n")
    os.rename(files + ".tmp", files)
wide = os.path.join(d, "columns_100000.csv")
if not os.path.exists(wide):
    with open(wide + ".tmp", "w") as f:
        f.write("Code," + ",".join(f"m{i}" for i in range(100_000)) + "\n")
        f.write("A-1," + ",".join("x" for _ in range(100_000)) + "\n")
    os.rename(wide + ".tmp", wide)
EOF

measure() {
    local label="$1"
    shift
    python3 - "$label" "$@" <<'EOF'
import os, subprocess, sys, time
label, command = sys.argv[1], sys.argv[2:]
started = time.time()
child = subprocess.Popen(["sh", "-c", " ".join(command)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(f"{label:<40} exit {os.waitstatus_to_exitcode(status)}  {time.time() - started:6.2f} s  peak RSS {usage.ru_maxrss / 1024:6.0f} MB")
EOF
}

out="$bench_dir/out"
measure "20,000 rows of 100 KB (2 MB gzip)" \
    exec "$bin" prepare "$bench_dir/rows_20000x100KB.csv.gz" --campaign-type gift --campaign-limit 100000 --quiet --force --out "$out"
measure "5,000 files of 2 rows, ulimit -n 64" \
    "ulimit -n 64 &&" exec "$bin" prepare "$bench_dir/files_5000" --campaign-type gift --quiet --force --out "$out"
measure "a header of 100,000 columns (check)" \
    exec "$bin" check "$bench_dir/columns_100000.csv" --campaign-type gift
