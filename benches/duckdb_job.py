#!/usr/bin/env python3
"""The `prepare` job done by DuckDB, for `benches/compare.sh`.

usage: duckdb_job.py DATA EXISTING OUT_DIR [--threads N]

What a data engineer would write for the same job as
`voucher-import prepare DATA --campaign-type gift --existing EXISTING --out OUT_DIR`:
  - read every field as text, broken records (wrong field count, bad quoting, invalid UTF-8)
    kept aside with `store_rejects` instead of failing the query;
  - trim every value, empty means missing;
  - the same row rules as sql/: code_required, active_boolean, invalid_number (Gift Amount,
    Redeemed Amount and Redeemed Quantity non-negative whole numbers), redeemed_over_balance,
    existing_code (anti-join with the existing codes);
  - duplicate_code: the first valid occurrence of a code is kept, later ones are rejected;
  - accepted rows in input order, Active lowercased, written as CSV batches of ROWS_PER_BATCH
    rows (ours cuts batches at 10 MB, which at this row size is about 125,000 rows; a fixed row
    count is the cheaper job, so the comparison does not favour us);
  - rejected rows with their reason in one CSV, broken records with DuckDB's error and line.
Prints `accepted rejected` on stdout.
"""
import argparse
import os
import shutil

import duckdb

ROWS_PER_BATCH = 125_000

COLUMNS = ["Code", "Active", "Category", "Gift Amount", "Redeemed Amount", "Redeemed Quantity",
           "region", "tier", "issued_on", "priority", "vip", "note"]
# Batch column order, as voucher-import writes it.
IMPORT_COLUMNS = ["Code", "Category", "Active", "Gift Amount", "Redeemed Amount",
                  "Redeemed Quantity", "region", "tier", "issued_on", "priority", "vip", "note"]


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def checked_sql(numbered: str, check_encoding: bool = False) -> str:
    """The statement that judges every row into the table `checked` (the input's columns
    trimmed, `rule` and `reason`): `numbered` is a FROM item with the input's columns and `rn`,
    the input order; `existing` is the table of existing codes. With `check_encoding`, a value
    holding U+FFFD is rejected first (invalid_encoding), as a table's replaced bytes are."""
    trimmed = ", ".join(f"nullif(trim({ident(c)}), '') AS {ident(c)}" for c in COLUMNS)
    whole = "({0} IS NOT NULL AND NOT regexp_full_match({0}, '[0-9]+'))"
    bad_number = " OR ".join(whole.format(ident(c))
                             for c in ["Gift Amount", "Redeemed Amount", "Redeemed Quantity"])
    damaged = " OR ".join(f"coalesce(contains({ident(c)}, '\ufffd'), false)" for c in COLUMNS)
    encoding = f"WHEN {damaged} THEN 'invalid_encoding'" if check_encoding else ""
    return f"""
        CREATE TABLE checked AS
        WITH n AS (SELECT rn, {trimmed} FROM {numbered}),
        r AS (
            SELECT n.*, CASE
                {encoding}
                WHEN "Code" IS NULL THEN 'code_required'
                WHEN lower("Active") NOT IN ('true', 'false') THEN 'active_boolean'
                WHEN {bad_number} THEN 'invalid_number'
                WHEN TRY_CAST("Redeemed Amount" AS HUGEINT) > TRY_CAST("Gift Amount" AS HUGEINT)
                    THEN 'redeemed_over_balance'
                WHEN e.existing_code IS NOT NULL THEN 'existing_code'
            END AS rule
            FROM n LEFT JOIN existing e ON n."Code" = e.existing_code
        )
        SELECT r.*, CASE
            WHEN rule IS NOT NULL THEN rule
            WHEN row_number() OVER (PARTITION BY rule IS NULL, "Code" ORDER BY rn) > 1
                THEN 'duplicate_code'
        END AS reason
        FROM r
    """


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("existing")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()

    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET preserve_insertion_order = true")

    con.execute(
        """CREATE TABLE src AS SELECT * FROM read_csv(?, header = true, all_varchar = true,
           delim = ',', quote = '"', escape = '"', store_rejects = true)""",
        [args.data],
    )
    con.execute(
        """CREATE TABLE existing AS SELECT DISTINCT trim(code) AS existing_code
           FROM read_csv(?, header = true, all_varchar = true)""",
        [args.existing],
    )

    con.execute(checked_sql("(SELECT rowid AS rn, * FROM src)"))

    select_import = ", ".join(
        f"lower({ident(c)}) AS {ident(c)}" if c == "Active" else ident(c) for c in IMPORT_COLUMNS)
    con.execute(f"""
        COPY (
            SELECT {select_import},
                   (row_number() OVER (ORDER BY rn) - 1) // {ROWS_PER_BATCH} AS batch
            FROM checked WHERE reason IS NULL ORDER BY rn
        ) TO '{os.path.join(args.out, "import")}' (FORMAT csv, HEADER, PARTITION_BY (batch))
    """)

    originals = ", ".join(ident(c) for c in COLUMNS)
    nulls = ", ".join(f"NULL AS {ident(c)}" for c in COLUMNS)
    con.execute(f"""
        COPY (
            SELECT row, line, reason, {originals}, raw FROM (
                SELECT rn + 1 AS row, NULL AS line, reason, {originals}, NULL AS raw
                FROM checked WHERE reason IS NOT NULL
                UNION ALL
                SELECT NULL AS row, line, error_type || ': ' || error_message AS reason, {nulls},
                       csv_line AS raw
                FROM reject_errors
            ) ORDER BY coalesce(row, line)
        ) TO '{os.path.join(args.out, "rejected.csv")}' (FORMAT csv, HEADER)
    """)

    accepted = con.execute("SELECT count(*) FROM checked WHERE reason IS NULL").fetchone()[0]
    rejected = con.execute(
        "SELECT (SELECT count(*) FROM checked WHERE reason IS NOT NULL)"
        " + (SELECT count(DISTINCT (file_id, line)) FROM reject_errors)").fetchone()[0]
    print(accepted, rejected)


if __name__ == "__main__":
    main()
