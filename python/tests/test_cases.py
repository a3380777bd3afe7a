"""prepare() on every `prepare` case of `tests/cases/` (the cases the Rust harness runs, read
from the same folders: no case list here) gives what the command line wrote: the summary
(summary.json), the rejected rows (rejected.csv), the accepted rows (the import batches), the
exit code, the error of a run that fails; and with out= the same folder."""

from __future__ import annotations

import filecmp
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import voucher_import
from voucher_import import _native
from conftest import (
    CASES as CASES_DIR,
    expected_out,
    normalized_summary,
    golden_summary,
    python,
    read_csv,
    same_cell,
    table_rows,
)

#: Options of the command line that only say what it prints.
PRINTING = ("--quiet", "--json")


def prepare_cases() -> List[Any]:
    """Every case of `tests/cases/` that runs `prepare` (its `args` file), as (case, argv)."""
    cases = []
    for case_dir in sorted(CASES_DIR.iterdir()):
        args_file = case_dir / "args"
        if not args_file.is_file() or (case_dir / "stdin").exists():
            continue
        argv = args_file.read_text(encoding="utf-8").splitlines()
        if argv[0] == "prepare":
            cases.append((case_dir.name, argv[1:]))
    return cases


def as_call(argv: List[str]) -> Tuple[Any, Dict[str, Any]]:
    """A `prepare` command line as prepare()'s source and keyword arguments, by the command
    line's own option table."""
    table = {
        long: (keyword, takes_value, repeatable)
        for keyword, long, takes_value, repeatable, _ in _native.prepare_options()
    }
    paths: List[str] = []
    options: Dict[str, Any] = {}
    at = 0
    while at < len(argv):
        arg = argv[at]
        at += 1
        if not arg.startswith("--"):
            paths.append(arg)
            continue
        if arg in PRINTING:
            continue
        keyword, takes_value, repeatable = table[arg[2:]]
        if not takes_value:
            options[keyword] = True
            continue
        value = argv[at]
        at += 1
        if keyword == "out":
            continue
        if keyword == "disable_rule":
            keyword = "disable_rules"
        if repeatable:
            options.setdefault(keyword, []).append(value)
        else:
            options[keyword] = value
    return (paths[0] if len(paths) == 1 else paths), options


CASES = prepare_cases()
IDS = [case for case, _ in CASES]


def expected_exit(case: str) -> int:
    return int((CASES_DIR / case / "expected" / "exit_code").read_text())


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
    """The rows of each column group's batches, header first (a group without accepted rows has
    no batch, and no table in the result)."""
    groups = []
    for group in (g for g in summary["column_groups"] if g["batches"]):
        rows: List[List[str]] = []
        for batch in group["batches"]:
            content = read_csv(expected_out(case) / batch)
            rows = rows or [content[0]]
            rows += content[1:]
        groups.append(rows)
    return groups


@pytest.mark.parametrize("case,argv", CASES, ids=IDS)
def test_prepare_gives_what_the_cli_wrote(case: str, argv: List[str]) -> None:
    source, options = as_call(argv)
    if expected_exit(case) == 2:
        with pytest.raises(voucher_import.VoucherImportError):
            voucher_import.prepare(source, **options)
        return
    try:
        result = voucher_import.prepare(source, **options)
    except voucher_import.ExitPolicyError as failed:
        result = failed.result
    golden = golden_summary(case)
    assert normalized_summary(result.summary) == golden
    assert result.summary["input_rows"] == result.summary["accepted"] + result.summary["rejected"]
    assert result.rejected.num_rows == golden["rejected"]
    assert_rows_equal(expected_out(case) / "rejected.csv", result.rejected)
    warnings_csv = expected_out(case) / "warnings.csv"
    if warnings_csv.exists():
        assert_rows_equal(warnings_csv, result.warnings)
    assert result.accepted.num_rows == golden["accepted"]
    batches = golden_batches(case, golden)
    assert len(result.accepted_by_group) == len(batches)
    # The accepted rows are the batches' rows, then the kept columns (never in a batch).
    kept = result.summary.get("kept_columns", [])
    for table, rows in zip(result.accepted_by_group, batches):
        assert table.column_names == rows[0] + kept
        assert table_rows(table.select(rows[0])) == rows[1:]
    assert result.exit_code == expected_exit(case)
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


#: The cases whose folder is compared file by file with the command line's (a few: each
#: runs the command line besides).
FOLDER_CASES = [(case, argv) for case, argv in CASES if expected_exit(case) == 1][:5]


@pytest.mark.parametrize("case,argv", FOLDER_CASES, ids=[c for c, _ in FOLDER_CASES])
def test_out_writes_the_folder_the_cli_writes(tmp_path: Path, case: str, argv: List[str]) -> None:
    ours = tmp_path / "python"
    source, options = as_call(argv)
    result = voucher_import.prepare(source, out=ours, **options)
    assert result.folder == ours
    cli_out = tmp_path / "cli"
    cli_argv = [python(), "-m", "voucher_import", "prepare", "--quiet"]
    cli_argv += [str(cli_out) if arg == "{out}" else arg for arg in argv]
    done = subprocess.run(cli_argv, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    ours_files = folder_files(ours)
    assert set(ours_files) == set(folder_files(cli_out))
    assert ours_files == folder_files(cli_out)
    # And the files are the goldens' (batches, rejected.csv, summary).
    for name in ("rejected.csv", "import/part-00001.csv"):
        if not (expected_out(case) / name).exists():
            assert not (ours / name).exists()
            continue
        assert filecmp.cmp(ours / name, expected_out(case) / name, shallow=False)
    assert normalized_summary(json.loads((ours / "summary.json").read_text())) == golden_summary(
        case
    )
    # The summary in the result is summary.json's.
    assert json.loads((ours / "summary.json").read_text()) == result.summary
