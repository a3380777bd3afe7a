"""prepare() on tables: pyarrow, pandas and Polars give what the same rows give as a file, and
the values come back as the import batches carry them."""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import voucher_import
from conftest import ROOT, table_rows

HEADER = ["Code", "Active", "Category", "Gift Amount", "Expiration Date", "region"]
ROWS = [
    ["GC-0001", "true", "summer", "5000", "2027-01-31", "EU"],
    ["GC-0002", "TRUE", "summer", "2500", "", "US"],
    ["GC-0001", "true", "summer", "5000", "", "EU"],  # duplicate_code
    ["", "true", "winter", "100", "", "EU"],  # code_required
    ["GC-0005", "maybe", "winter", "100", "", "EU"],  # active_boolean
    ["GC-0006", "false", "winter", "12.50", "", "EU"],  # invalid_number (minor units)
    ["GC-0007", "false", "", "700", "31/02/2027", ""],  # invalid_date
    ["GC-0008", "true", "=cmd", "700", "", "EU"],  # a formula-like value, accepted
    ["gc-0002", "true", "summer", "100", "", "EU"],  # case_variant_code (a warning)
]


@pytest.fixture()
def cards(tmp_path: Path) -> Path:
    path = tmp_path / "cards.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(ROWS)
    return path


def as_text_table(path: Path) -> pa.Table:
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in HEADER}, strings_can_be_null=False
    )
    return pacsv.read_csv(path, convert_options=options)


def assert_same_run(from_table: Any, from_file: Any, columns: List[str] = HEADER) -> None:
    """A table run and a file run of the same rows: same verdicts, same accepted values, and
    the same rejected and warned rows."""
    t, f = from_table.summary, from_file.summary
    for key in (
        "input_rows",
        "accepted",
        "rejected",
        "rejected_by_rule",
        "warnings",
        "warnings_by_rule",
        "normalizations",
    ):
        assert t[key] == f[key], key
    assert t["inputs"][0]["path"] == "table"
    # Every row in exactly one place, in the tables as in the counts.
    for run in (from_table, from_file):
        rows = run.summary["input_rows"]
        assert run.accepted.num_rows + run.rejected.num_rows == rows
        assert run.summary["accepted"] + run.summary["rejected"] == rows
    assert from_table.accepted.equals(from_file.accepted)
    # The rejected rows: `source, row` for a table, `file, row, line` (and `raw`) for a file.
    assert from_table.rejected.column_names[:4] == ["source", "row", "rules", "reason"]
    assert from_file.rejected.column_names[:5] == ["file", "row", "line", "rules", "reason"]
    assert from_file.rejected.column_names[-1] == "raw"
    for outlet in ("rejected", "warnings"):
        for name in ["row", "rules"] + columns:
            table_column = getattr(from_table, outlet).column(name)
            assert table_column.equals(getattr(from_file, outlet).column(name)), (outlet, name)
    # A reason names the source where the file's names the file.
    file_name = from_file.summary["inputs"][0]["path"]
    for outlet in ("rejected", "warnings"):
        reasons = getattr(from_table, outlet).column("reason").to_pylist()
        file_reasons = getattr(from_file, outlet).column("reason").to_pylist()
        assert reasons == [r.replace(file_name, "table") for r in file_reasons]
    assert set(from_table.rejected.column("source").to_pylist()) == {"table"}


def test_a_pyarrow_table_is_judged_as_the_same_rows_in_a_file(cards: Path) -> None:
    from_file = voucher_import.prepare(str(cards), campaign_type="gift")
    assert from_file.summary["rejected"] == 5
    assert from_file.summary["warnings"] == 1
    assert sorted(from_file.summary["rejected_by_rule"][r] for r in ("duplicate_code", "code_required", "active_boolean", "invalid_number", "invalid_date")) == [1, 1, 1, 1, 1]
    from_table = voucher_import.prepare(as_text_table(cards), campaign_type="gift")
    assert_same_run(from_table, from_file)
    # Values as the batches carry them; the formula-like value as it is (data, not a cell).
    assert from_table.accepted.column("Code").to_pylist() == ["GC-0001", "GC-0002", "GC-0008", "gc-0002"]
    assert from_table.accepted.column("Active").to_pylist()[:2] == ["true", "true"]
    assert from_table.accepted.column("Category").to_pylist()[2] == "=cmd"


def test_a_pandas_dataframe(cards: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(cards, dtype=str, keep_default_na=False)
    from_file = voucher_import.prepare(cards, campaign_type="gift")
    assert_same_run(voucher_import.prepare(frame, campaign_type="gift"), from_file)


def test_a_polars_dataframe(cards: Path) -> None:
    pl = pytest.importorskip("polars")
    frame = pl.read_csv(cards, infer_schema=False)
    from_file = voucher_import.prepare(cards, campaign_type="gift")
    assert_same_run(voucher_import.prepare(frame, campaign_type="gift"), from_file)


def test_a_record_batch_reader_is_streamed(cards: Path) -> None:
    table = as_text_table(cards)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=2))
    from_file = voucher_import.prepare(cards, campaign_type="gift")
    assert_same_run(voucher_import.prepare(reader, campaign_type="gift"), from_file)


def test_typed_columns_are_written_as_text() -> None:
    table = pa.table(
        {
            "Code": ["A-1", "A-2"],
            "Gift Amount": pa.array([1000, 2550], pa.int64()),
            "Active": [True, False],
            "tier": pa.array([1.5, None]),
        }
    )
    result = voucher_import.prepare(table, campaign_type="gift")
    assert result.summary["accepted"] == 2, table_rows(result.rejected)
    assert result.accepted.column("Gift Amount").to_pylist() == ["1000", "2550"]
    assert result.accepted.column("Active").to_pylist() == ["true", "false"]
    assert result.accepted.column("tier").to_pylist() == ["1.5", None]


def test_zoned_timestamps_are_written_in_utc() -> None:
    # pandas and Polars zoned datetimes: the same instants, in Voucherify's UTC form (rendered
    # in their own zone, every row used to be rejected as an invalid date).
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    stamps = ["2026-01-01 10:00:00", "2026-07-01 10:00:00.250"]
    frame = pd.DataFrame(
        {"Code": ["Z-1", "Z-2"], "Start Date": pd.to_datetime(stamps, format="ISO8601").tz_localize("Europe/Warsaw")}
    )
    result = voucher_import.prepare(frame, campaign_type="discount")
    assert result.summary["accepted"] == 2, table_rows(result.rejected)
    assert result.accepted.column("Start Date").to_pylist() == [
        "2026-01-01T09:00:00Z",
        "2026-07-01T08:00:00.250Z",
    ]
    polars_frame = pl.from_pandas(frame)
    result = voucher_import.prepare(polars_frame, campaign_type="discount")
    assert result.accepted.column("Start Date").to_pylist() == [
        "2026-01-01T09:00:00Z",
        "2026-07-01T08:00:00.250Z",
    ]


def test_pandas_period_columns_are_written_as_their_iso_text() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "Code": ["P-1", "P-2", "P-3"],
            "month": pd.PeriodIndex(["2026-01", "2026-02", None], freq="M"),
            "day": pd.PeriodIndex(["2026-01-15", "2026-02-01", "2026-03-31"], freq="D"),
        }
    )
    result = voucher_import.prepare(frame, campaign_type="discount")
    assert result.summary["accepted"] == 3, table_rows(result.rejected)
    # Not the ordinals (672, 20468, ...).
    assert result.accepted.column("month").to_pylist() == ["2026-01", "2026-02", None]
    assert result.accepted.column("day").to_pylist() == ["2026-01-15", "2026-02-01", "2026-03-31"]


def test_several_named_tables_are_one_import() -> None:
    a = pa.table({"Code": ["A-1", "SAME"], "Active": ["true", "true"]})
    b = pa.table({"Code": ["SAME", "B-2"], "Region": ["EU", "US"]})
    result = voucher_import.prepare({"partner": a, "manual": b}, campaign_type="discount")
    assert [i["path"] for i in result.summary["inputs"]] == ["partner", "manual"]
    assert result.rejected.column("source").to_pylist() == ["manual"]
    assert result.rejected.column("rules").to_pylist() == ["duplicate_code"]
    # Two column groups: one table each, and their union.
    assert [t.column_names for t in result.accepted_by_group] == [["Code", "Active"], ["Code", "Region"]]
    assert result.accepted.column_names == ["Code", "Active", "Region"]
    assert result.accepted.column("Code").to_pylist() == ["A-1", "SAME", "B-2"]
    unnamed = voucher_import.prepare([a, b], campaign_type="discount")
    assert [i["path"] for i in unnamed.summary["inputs"]] == ["table 1", "table 2"]


def test_existing_codes_from_a_python_list() -> None:
    table = pa.table({"Code": ["OLD-1", "NEW-1", "old-2"], "Active": ["true"] * 3})
    result = voucher_import.prepare(
        table, campaign_type="discount", existing=["OLD-1", "OLD-2"], case_insensitive_codes=True
    )
    assert result.rejected.column("Code").to_pylist() == ["OLD-1", "old-2"]
    assert set(result.rejected.column("rules").to_pylist()) == {"existing_code"}
    assert result.summary["existing"] == [{"path": "(codes given)", "codes": 2}]
    # Any iterable of codes: a set, a generator, a pyarrow array.
    for codes in ({"OLD-1"}, (c for c in ["OLD-1"]), pa.array(["OLD-1", None])):
        assert voucher_import.prepare(table, campaign_type="discount", existing=codes).summary["rejected"] == 1


def test_a_rule_text() -> None:
    rule = """-- rule: code_prefix
-- description: Codes carry the prefix GC-.
SELECT 'Code ''' || "Code" || ''' does not start with GC-' AS reason
FROM vouchers
WHERE NOT starts_with("Code", 'GC-')
"""
    table = pa.table({"Code": ["GC-1", "XX-2"], "Gift Amount": ["100", "100"]})
    result = voucher_import.prepare(table, campaign_type="gift", rules=[rule])
    assert result.rejected.column("rules").to_pylist() == ["code_prefix"]
    assert result.rejected.column("reason").to_pylist() == ["Code 'XX-2' does not start with GC-"]
    assert result.summary["rejected_by_rule"]["code_prefix"] == 1
    # And with a built-in rule switched off.
    off = voucher_import.prepare(table, campaign_type="gift", rules=rule, disable_rules="code_prefix")
    assert off.summary["rejected"] == 0


def test_a_campaign_and_a_metadata_schema_as_dicts() -> None:
    table = pa.table({"Code": ["L-1", "L-2"], "Loyalty Points": ["10", "x"], "tier": ["gold", "tin"]})
    schema = {
        "properties": {
            "tier": {"type": "string", "array": False, "optional": False, "validation": {"is": ["gold", "silver"]}},
        }
    }
    result = voucher_import.prepare(
        table,
        campaign={"id": "camp_1", "campaign_type": "LOYALTY_PROGRAM", "vouchers_count": 99_999},
        metadata_schema=schema,
    )
    assert result.summary["campaign"]["campaign_type"] == "LOYALTY_PROGRAM"
    assert result.summary["options"]["codes_in_campaign"] == 99_999
    assert result.summary["accepted"] == 1
    assert result.summary["rejected"] == 1


def test_the_exit_policy() -> None:
    table = pa.table({"Code": ["A", "A", "B"]})
    plain = voucher_import.prepare(table, campaign_type="discount")
    assert (plain.exit_code, plain.ok) == (1, False)
    within = voucher_import.prepare(table, campaign_type="discount", max_rejected="50%")
    assert within.exit_code == 0
    with pytest.raises(voucher_import.ExitPolicyError) as raised:
        voucher_import.prepare(table, campaign_type="discount", max_rejected=0)
    assert "1 rows rejected" in str(raised.value) or "rejected" in raised.value.message
    assert raised.value.result.summary["rejected"] == 1
    assert raised.value.result.rejected.num_rows == 1
    warned = pa.table({"Code": ["A", "a"]})
    with pytest.raises(voucher_import.ExitPolicyError):
        voucher_import.prepare(warned, campaign_type="discount", fail_on_warnings=True)


def test_the_gil_is_released_while_the_engine_runs() -> None:
    rows = 400_000
    table = pa.table({"Code": [f"C-{i:07d}" for i in range(rows)], "Gift Amount": ["100"] * rows})
    done: Dict[str, Any] = {}

    def run() -> None:
        done["result"] = voucher_import.prepare(
            table, campaign_type="gift", threads=1, campaign_limit=1_000_000
        )

    worker = threading.Thread(target=run)
    ticks = 0
    worker.start()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.002)
    worker.join()
    assert done["result"].summary["accepted"] == rows
    # This thread ran all along (a run holding the GIL would have stopped it).
    assert ticks > 20, ticks


def test_a_duckdb_relation() -> None:
    duckdb = pytest.importorskip("duckdb")
    relation = duckdb.sql(
        "SELECT 'D-' || i::VARCHAR AS \"Code\", 'true' AS \"Active\" FROM range(5) t(i)"
    )
    result = voucher_import.prepare(relation, campaign_type="discount")
    assert result.summary["accepted"] == 5
    assert result.accepted.column("Code").to_pylist() == [f"D-{i}" for i in range(5)]


def test_a_table_with_out_writes_the_folder_upload_takes(cards: Path, tmp_path: Path) -> None:
    import json

    out = tmp_path / "out"
    result = voucher_import.prepare({"cards": as_text_table(cards)}, campaign_type="gift", out=out)
    assert result.folder == out
    assert json.loads((out / "summary.json").read_text()) == result.summary
    batch = (out / "import" / "part-00001.csv").read_text(encoding="utf-8").splitlines()
    assert batch[0].split(",") == result.accepted.column_names
    assert len(batch) - 1 == result.accepted.num_rows
    rejected = (out / "rejected.csv").read_text(encoding="utf-8").splitlines()
    assert len(rejected) - 1 == result.rejected.num_rows == 5


def test_a_table_gives_what_the_cli_gives_on_the_same_rows(cards: Path, tmp_path: Path) -> None:
    """The command line on the file, the package on the same rows as a table."""
    import json
    import subprocess

    from conftest import python, read_csv

    out = tmp_path / "cli"
    done = subprocess.run(
        [python(), "-m", "voucher_import", "prepare", str(cards), "--campaign-type", "gift",
         "--out", str(out), "--json", "--quiet"],
        capture_output=True, text=True,
    )
    assert done.returncode == 1, done.stderr
    cli_summary = json.loads(done.stdout)
    result = voucher_import.prepare(as_text_table(cards), campaign_type="gift")
    for key in ("input_rows", "accepted", "rejected", "rejected_by_rule", "warnings_by_rule"):
        assert result.summary[key] == cli_summary[key], key
    batch = read_csv(out / "import" / "part-00001.csv")
    assert batch[0] == result.accepted.column_names
    assert batch[1:] == table_rows(result.accepted)
    rejected = read_csv(out / "rejected.csv")
    assert [r[1] for r in rejected[1:]] == [str(r) for r in result.rejected.column("row").to_pylist()]
    assert [r[3] for r in rejected[1:]] == result.rejected.column("rules").to_pylist()


def test_the_engine_logs_to_pythons_logging(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    table = pa.table({"Code": ["A", "B"]})
    with caplog.at_level(logging.INFO, logger="voucher_import"):
        voucher_import.prepare(table, campaign_type="discount")
    messages = [r.getMessage() for r in caplog.records if r.name == "voucher_import"]
    assert any(m.startswith("planned: 1 inputs") for m in messages), messages
    assert any(m.startswith("compiled ") for m in messages), messages
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "voucher_import")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="voucher_import"):
        voucher_import.prepare(table, campaign_type="discount")
    assert [r for r in caplog.records if r.name == "voucher_import"] == []


def test_empty_cells_of_a_pandas_column_of_codes_are_no_codes() -> None:
    pd = pytest.importorskip("pandas")
    codes = pd.Series(["OLD-1", None, float("nan"), pd.NA], dtype=object)
    table = pa.table({"Code": ["OLD-1", "nan", "<NA>", "None"]})
    result = voucher_import.prepare(table, campaign_type="discount", existing=codes)
    assert result.summary["existing"] == [{"path": "(codes given)", "codes": 1}]
    assert result.rejected.column("Code").to_pylist() == ["OLD-1"]


def test_a_value_a_lossy_reader_replaced_is_rejected_like_the_files_bytes(tmp_path: Path) -> None:
    """pandas with encoding_errors="replace" turns bytes that are not UTF-8 into U+FFFD: the
    table's row is rejected as invalid_encoding, as the file's row is."""
    import pandas as pd

    path = tmp_path / "latin1.csv"
    path.write_bytes(b"Code,Category\nOK-1,a\nBAD-2,caf\xe9\nOK-3,b\n")
    by_file = voucher_import.prepare(str(path), campaign_type="discount")
    frame = pd.read_csv(path, dtype=str, encoding="utf-8", encoding_errors="replace")
    by_table = voucher_import.prepare(frame, campaign_type="discount")
    for result in (by_file, by_table):
        assert result.summary["rejected_by_rule"]["invalid_encoding"] == 1
        assert result.summary["accepted"] == 2


def write_rows_as_csv(table: pa.Table, path: Path) -> None:
    """The rows of a table of binary columns as a CSV file, byte for byte (quoted where a value
    needs it): the same rows as a file."""

    def field(value: bytes) -> bytes:
        if any(c in value for c in (b",", b'"', b"\n", b"\r")):
            return b'"' + value.replace(b'"', b'""') + b'"'
        return value

    columns = [column.to_pylist() for column in table.columns]
    with open(path, "wb") as f:
        f.write(b",".join(field(name.encode()) for name in table.column_names) + b"\n")
        f.writelines(b",".join(map(field, row)) + b"\n" for row in zip(*columns))


def test_the_generated_million_rows_as_a_table_and_as_a_file(tmp_path: Path) -> None:
    # The benchmark's data: a million gift cards with every kind of damage the generator
    # makes (duplicates, existing codes, bad numbers, bytes that are not UTF-8, quoted fields
    # with commas, quotes and line breaks). pyarrow leaves out the records it cannot split;
    # the rows it keeps are written back as a file, so both runs get the very same rows.
    generated, existing = tmp_path / "generated.csv", tmp_path / "existing.csv"
    subprocess.run(
        [sys.executable, str(ROOT / "benches" / "gen_vouchers.py"), "--rows", "1000000",
         "--out", str(generated), "--existing", str(existing)],
        check=True,
    )
    with open(generated, "rb") as f:
        header = f.readline().rstrip(b"\r\n").decode().split(",")
    table = pacsv.read_csv(
        generated,
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.binary() for name in header}, strings_can_be_null=False
        ),
        parse_options=pacsv.ParseOptions(
            invalid_row_handler=lambda row: "skip", newlines_in_values=True
        ),
    )
    assert table.num_rows > 990_000
    same_rows = tmp_path / "same_rows.csv"
    write_rows_as_csv(table, same_rows)
    options: Dict[str, Any] = dict(
        campaign_type="gift", existing=[str(existing)], campaign_limit=10**9
    )
    from_file = voucher_import.prepare(same_rows, **options)
    from_table = voucher_import.prepare(table, **options)
    summary = from_file.summary
    assert summary["input_rows"] == table.num_rows
    # The damage is there to be found: every kind of verdict the job gives.
    for rule in ("duplicate_code", "existing_code", "invalid_number", "invalid_encoding"):
        assert summary["rejected_by_rule"].get(rule, 0) > 0, rule
    assert_same_run(from_table, from_file, columns=header)


@pytest.mark.parametrize(
    "layout",
    [
        pa.large_string(),
        pa.string_view(),
        pa.dictionary(pa.int32(), pa.string()),
        pa.dictionary(pa.int8(), pa.large_string()),
        pa.large_binary(),
        pa.binary_view(),
    ],
    ids=str,
)
def test_every_string_layout_is_read_as_it_comes(cards: Path, layout: pa.DataType) -> None:
    # Arrow's string layouts (offsets, large offsets, views, dictionaries) cross the C stream as
    # they are; each is judged as the same rows in a file.
    table = as_text_table(cards)
    table = pa.table({name: table.column(name).cast(layout) for name in table.column_names})
    from_file = voucher_import.prepare(cards, campaign_type="gift")
    assert_same_run(voucher_import.prepare(table, campaign_type="gift"), from_file)


def test_the_result_tables_outlive_the_source_and_the_call(cards: Path) -> None:
    import gc

    table = as_text_table(cards)
    result = voucher_import.prepare(table, campaign_type="gift")
    expected = result.accepted.to_pylist()
    del table
    gc.collect()
    # The tables are the engine's buffers, handed over to pyarrow: they stay valid on their own.
    assert result.accepted.to_pylist() == expected
    assert result.rejected.num_rows == 5


def test_a_stream_whose_source_fails_midway_raises_an_input_error_naming_it() -> None:
    # The batches of a Python generator are pulled by the engine's thread through the C
    # stream (pyarrow takes the GIL for them); the generator's own error comes back whole.
    schema = pa.schema([("Code", pa.string())])

    def batches() -> Any:
        yield pa.record_batch([pa.array(["A-1", "A-2"])], schema=schema)
        raise RuntimeError("the warehouse connection dropped")

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    with pytest.raises(voucher_import.InputError, match="the warehouse connection dropped"):
        voucher_import.prepare(reader, campaign_type="gift")
