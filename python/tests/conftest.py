"""Shared helpers: the repository's fixtures and cases (`tests/cases/`), read as the CLI's tests
read them."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"


def expected_out(case: str) -> Path:
    """The output folder case `case` of `tests/cases/` expects."""
    return CASES / case / "expected" / "out"


@pytest.fixture(autouse=True)
def at_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs are named relative to the repository's root, as in the goldens; no
    VOUCHER_IMPORT_* variable of the caller's shell reaches a test."""
    monkeypatch.chdir(ROOT)
    for name in list(os.environ):
        if name.startswith("VOUCHER_IMPORT_") or name.startswith("VOUCHERIFY_"):
            monkeypatch.delenv(name)


def normalized_summary(summary: Dict[str, Any]) -> Dict[str, Any]:
    """A summary as the goldens keep it: no version, no elapsed time."""
    summary = dict(summary)
    summary["version"] = "{version}"
    summary["elapsed_ms"] = "{elapsed}"
    return summary


def golden_summary(case: str) -> Dict[str, Any]:
    return json.loads((expected_out(case) / "summary.json").read_text(encoding="utf-8"))


def read_csv(path: Path) -> List[List[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def table_rows(table: Any) -> List[List[str]]:
    """A table's rows as text, an empty cell for null (as a CSV has them)."""
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [
        ["" if value is None else str(value) for value in row] for row in zip(*columns)
    ]


FORMULA = re.compile(r"^[=+\-@\t\r]")


def same_cell(csv_cell: str, table_cell: str) -> bool:
    """rejected.csv makes a value a spreadsheet would run as a formula safe with a leading
    quote, and shows a NUL byte as U+FFFD; the table has the value as read."""
    shown = table_cell.replace("\0", "\ufffd")
    return csv_cell == shown or (bool(FORMULA.match(shown)) and csv_cell == "'" + shown)


def python() -> str:
    return sys.executable


def ctrl_c(child: "subprocess.Popen[str]", what: str) -> Tuple[str, str]:
    """Sends SIGINT to `child` and gives its (stdout, stderr); it must stop within 30 s."""
    child.send_signal(signal.SIGINT)
    try:
        return child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError(f"Ctrl-C did not stop {what} within 30 s")
