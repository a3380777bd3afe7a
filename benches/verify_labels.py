#!/usr/bin/env python3
"""Checks a `prepare` run against the defect labels of benches/gen_vouchers.py.

usage: verify_labels.py LABELS.csv OUT_DIR INPUT_ROWS

Every labelled record must be rejected with the rules its labels map to (bad_metadata is not
checked: it needs a metadata schema), every other record must be accepted, and the rows in the
batches plus the rejected rows must equal INPUT_ROWS. Prints a summary; exits 1 on a mismatch.
"""
import csv
import glob
import os
import sys

csv.field_size_limit(sys.maxsize)

LABEL_TO_RULE = {
    "missing_code": "code_required",
    "duplicate_code": "duplicate_code",
    "existing_code": "existing_code",
    "bad_active": "active_boolean",
    "bad_amount": "invalid_number",
    "redeemed_over": "redeemed_over_balance",
    "ragged_row": "malformed_record",
    "invalid_utf8": "invalid_encoding",
}


def main() -> int:
    labels_path, out_dir, input_rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    expected = {}
    with open(labels_path, newline="") as f:
        for rec in csv.DictReader(f):
            rules = {LABEL_TO_RULE[l] for l in rec["labels"].split("|") if l in LABEL_TO_RULE}
            if rules:
                expected[int(rec["record"])] = rules
    rejected = {}
    with open(os.path.join(out_dir, "rejected.csv"), newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            rejected[int(rec["row"])] = set(rec["rules"].split("|"))
    accepted = 0
    for part in sorted(glob.glob(os.path.join(out_dir, "import", "part-*.csv"))):
        with open(part, newline="", encoding="utf-8") as f:
            accepted += sum(1 for _ in csv.reader(f)) - 1
    problems = []
    for row, rules in expected.items():
        got = rejected.get(row)
        if got is None:
            problems.append(f"row {row}: labelled {sorted(rules)} but accepted")
        elif not rules <= got:
            problems.append(f"row {row}: labelled {sorted(rules)} but rejected as {sorted(got)}")
    for row, got in rejected.items():
        if row not in expected:
            problems.append(f"row {row}: not labelled but rejected as {sorted(got)}")
    if accepted + len(rejected) != input_rows:
        problems.append(f"{accepted} accepted + {len(rejected)} rejected != {input_rows} input rows")
    print(f"labelled rows: {len(expected)}, rejected: {len(rejected)}, accepted: {accepted}, "
          f"mismatches: {len(problems)}")
    for p in problems[:20]:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
