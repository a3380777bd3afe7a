#!/usr/bin/env bash
# Side-by-side benchmark: voucher-import vs DuckDB vs the floor (a bare csv-crate pass), on the
# same generated gift-card file, alternating and repeated; prints the medians and the ratios.
#
#   benches/compare.sh 1000000            # rows (default 1000000)
#   REPEATS=5 benches/compare.sh 10000000
#
# Environment:
#   BENCH_DIR     scratch folder for data, outputs and the DuckDB venv (default
#                 /tmp/voucher-import-bench); generated data is kept there between runs
#   REPEATS       runs of each command (default 3; the median is reported)
#   THREADS       threads for voucher-import and DuckDB (default: all cores)
#   GEN_VOUCHERS  the generator (default benches/gen_vouchers.py)
#   DUCKDB_VERSION  the duckdb Python package installed in the venv (default 2.0.1)
#   CARGO_TARGET_DIR  as for cargo (default $HOME/.cache/voucher-import/target)
set -euo pipefail

rows="${1:-1000000}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_dir="${BENCH_DIR:-/tmp/voucher-import-bench}"
repeats="${REPEATS:-3}"
threads="${THREADS:-$(nproc)}"
generator="${GEN_VOUCHERS:-$repo/benches/gen_vouchers.py}"
duckdb_version="${DUCKDB_VERSION:-2.0.1}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/voucher-import/target}"

mkdir -p "$bench_dir"
data="$bench_dir/gift_$rows.csv"
existing="$bench_dir/existing_$rows.csv"
if [[ ! -s "$data" || ! -s "$existing" ]]; then
    if [[ ! -f "$generator" ]]; then
        echo "compare.sh: the generator $generator is missing; set GEN_VOUCHERS to gen_vouchers.py" >&2
        exit 2
    fi
    echo "generating $rows rows into $data ..." >&2
    python3 "$generator" --rows "$rows" --out "$data.tmp" --existing "$existing"
    mv "$data.tmp" "$data"
fi

echo "building voucher-import and the floor (release) ..." >&2
# Two plain builds: the floor is a package of its own, so neither pulls dev-dependencies.
(cd "$repo" && cargo build --release --locked --quiet -p voucher-import --bin voucher-import && cargo build --release --locked --quiet -p csv-floor)

venv="$bench_dir/venv"
if ! "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$duckdb_version')" 2>/dev/null; then
    echo "installing duckdb $duckdb_version into $venv ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade "duckdb==$duckdb_version"
fi

exec "$venv/bin/python" "$repo/benches/compare.py" \
    --rows "$rows" --data "$data" --existing "$existing" --work "$bench_dir" \
    --repeats "$repeats" --threads "$threads" \
    --ours "$CARGO_TARGET_DIR/release/voucher-import" \
    --floor "$CARGO_TARGET_DIR/release/csv-floor" \
    --duckdb-job "$repo/benches/duckdb_job.py"
