"""prepare() on the CLI's golden fixtures gives what the CLI wrote: the summary (summary.json),
the rejected rows (rejected.csv), the accepted rows (the import batches), and with out= the
same folder."""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

import voucher_import
from conftest import (
    GOLDEN,
    normalized_summary,
    golden_summary,
    python,
    read_csv,
    same_cell,
    table_rows,
)

SAMPLE = "fixtures/sample/gift_cards.csv"

# (golden case, source, keyword arguments): the same runs as the CLI's golden tests.
CASES: List[Any] = [
    (
        "sample_gift_cards",
        SAMPLE,
        dict(campaign_type="gift", existing="fixtures/sample/existing_codes.csv"),
    ),
    ("campaign_limit", SAMPLE, dict(campaign="fixtures/sample/campaign.json")),
    ("case_insensitive", SAMPLE, dict(campaign_type="gift", case_insensitive_codes=True)),
    ("small_batches", SAMPLE, dict(campaign_type="gift", max_file_bytes=190)),
    (
        "multi_file",
        ["fixtures/multi/part_a.csv", "fixtures/multi/part_b.csv"],
        dict(campaign_type="discount"),
    ),
    (
        "amounts_major",
        "fixtures/sample/amounts_major.csv",
        dict(campaign_type="gift", amount_unit="major"),
    ),
    (
        "rename_and_drop",
        "fixtures/exports/other_platform.csv",
        dict(
            campaign_type="gift",
            rename={
                "voucher_code": "Code",
                "state": "Active",
                "Region Name": "region",
                "balance_cents": "Gift Amount",
            },
            drop=["internal id"],
        ),
    ),
    (
        "metadata_schema",
        "fixtures/schema/cards_with_metadata.csv",
        dict(campaign_type="discount", metadata_schema="fixtures/schema/metadata_schemas.json"),
    ),
    ("voucherify_export", "fixtures/exports/voucherify_gift_export.csv", dict(campaign_type="gift")),
    (
        "user_rules",
        SAMPLE,
        dict(
            campaign_type="gift",
            rules=[
                "fixtures/rules/code_prefix.sql",
                "fixtures/rules/code_charset.sql",
                "fixtures/rules/category_cap.sql",
            ],
        ),
    ),
]


def assert_rows_equal(golden_csv: Path, table: Any) -> None:
    """A rejected.csv or warnings.csv against a table of the same rows."""
    expected = read_csv(golden_csv)
    assert expected[0] == table.column_names, "the table's columns are rejected.csv's"
    actual = table_rows(table)
    assert len(actual) == len(expected) - 1
    for number, (want, got) in enumerate(zip(expected[1:], actual), start=1):
        assert len(want) == len(got)
        for column, w, g in zip(expected[0], want, got):
            assert same_cell(w, g), f"row {number}, column {column}: {w!r} != {g!r}"


def golden_batches(case: str, summary: Dict[str, Any]) -> List[List[List[str]]]:
    """The rows of each column group's batches, header first."""
    groups = []
    for group in summary["column_groups"]:
        rows: List[List[str]] = []
        for batch in group["batches"]:
            content = read_csv(GOLDEN / case / "out" / batch)
            rows = rows or [content[0]]
            rows += content[1:]
        groups.append(rows)
    return groups


@pytest.mark.parametrize("case,source,options", CASES, ids=[c[0] for c in CASES])
def test_prepare_gives_what_the_cli_wrote(case: str, source: Any, options: Dict[str, Any]) -> None:
    result = voucher_import.prepare(source, **options)
    golden = golden_summary(case)
    assert normalized_summary(result.summary) == golden
    assert result.summary["input_rows"] == result.summary["accepted"] + result.summary["rejected"]
    assert result.rejected.num_rows == golden["rejected"]
    assert_rows_equal(GOLDEN / case / "out" / "rejected.csv", result.rejected)
    warnings_csv = GOLDEN / case / "out" / "warnings.csv"
    if warnings_csv.exists():
        assert_rows_equal(warnings_csv, result.warnings)
    assert result.accepted.num_rows == golden["accepted"]
    batches = golden_batches(case, golden)
    assert len(result.accepted_by_group) == len(batches)
    for table, rows in zip(result.accepted_by_group, batches):
        assert table.column_names == rows[0]
        assert table_rows(table) == rows[1:]
    assert result.exit_code == 1  # every golden has rejected rows
    assert result.folder is None


def folder_files(folder: Path) -> Dict[str, bytes]:
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name in ("summary.json", "report.html"):
                data = data.replace(b"\r", b"")
                text = data.decode("utf-8")
                if path.name == "summary.json":
                    text = json.dumps(normalized_summary(json.loads(text)), indent=2)
                else:
                    text = re.sub(r"\d+(\.\d+)? ?(ms|s)\b", "{time}", text)
                data = text.encode("utf-8")
            files[str(path.relative_to(folder))] = data
    return files


@pytest.mark.parametrize("case,source,options", CASES[:5], ids=[c[0] for c in CASES[:5]])
def test_out_writes_the_folder_the_cli_writes(
    tmp_path: Path, case: str, source: Any, options: Dict[str, Any]
) -> None:
    ours = tmp_path / "python"
    result = voucher_import.prepare(source, out=ours, **options)
    assert result.folder == ours
    cli_out = tmp_path / "cli"
    argv = [python(), "-m", "voucher_import", "prepare", "--quiet", "--out", str(cli_out)]
    argv += [source] if isinstance(source, str) else list(source)
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, list):
            for item in value:
                argv += ["--rules" if key == "rules" else flag, item]
        else:
            argv += [flag, str(value)]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    ours_files = folder_files(ours)
    assert set(ours_files) == set(folder_files(cli_out))
    assert ours_files == folder_files(cli_out)
    # And the files are the goldens' (batches, rejected.csv, summary).
    for name in ("rejected.csv", "import/part-00001.csv"):
        assert filecmp.cmp(ours / name, GOLDEN / case / "out" / name, shallow=False)
    assert normalized_summary(json.loads((ours / "summary.json").read_text())) == golden_summary(
        case
    )
    # The summary in the result is summary.json's.
    assert json.loads((ours / "summary.json").read_text()) == result.summary
