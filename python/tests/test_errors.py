"""Every error kind is raised as its own VoucherImportError subclass, with .kind, .path,
.message and .fix; nothing is written when a run fails."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

import voucher_import
from voucher_import import errors

SAMPLE = "fixtures/sample/gift_cards.csv"


def test_every_kind_has_its_class() -> None:
    # The kinds the engine reports (error::ErrorKind), each mapped to its class.
    kinds = {
        "upload": voucher_import.UploadError,
        "interrupted": voucher_import.RunInterruptedError,
        "io": voucher_import.IoError,
        "input": voucher_import.InputError,
        "header": voucher_import.HeaderError,
        "csv": voucher_import.CsvError,
        "rule": voucher_import.RuleError,
        "rule_evaluation": voucher_import.RuleEvaluationError,
        "usage": voucher_import.UsageError,
        "output": voucher_import.OutputError,
        "resources": voucher_import.ResourcesError,
        "internal": voucher_import.InternalError,
    }
    assert errors.ERROR_CLASSES == kinds
    schema = json.loads(Path("schemas/error.schema.json").read_text())
    documented = {
        name for choice in schema["definitions"]["ErrorKind"]["oneOf"] for name in choice["enum"]
    }
    assert documented == set(kinds), "the classes cover exactly the kinds of the JSON contract"
    for kind, cls in kinds.items():
        report = {"kind": kind, "message": "m", "path": "p", "line": 3, "column": 2, "fix": "f"}
        error = errors.from_native(json.dumps(report), "text")
        assert type(error) is cls and isinstance(error, voucher_import.VoucherImportError)
        assert (error.kind, error.message, error.path, error.line, error.column, error.fix) == (
            kind, "m", "p", 3, 2, "f"
        )


def test_a_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(voucher_import.VoucherImportError) as raised:
        voucher_import.prepare(str(tmp_path / "nope.csv"), campaign_type="gift", out=tmp_path / "out")
    assert raised.value.kind in ("input", "io")
    assert raised.value.path and "nope.csv" in raised.value.path
    assert raised.value.fix
    assert not (tmp_path / "out").exists()


def test_a_file_without_a_code_column_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "cards.csv"
    path.write_text("Cdoe,Active\nA,true\n")
    with pytest.raises(voucher_import.InputError) as raised:
        voucher_import.prepare(path, campaign_type="gift")
    assert raised.value.kind == "input"
    assert raised.value.path == str(path)
    assert "did you mean 'Cdoe'" in raised.value.message
    assert "Code" in raised.value.fix
    with pytest.raises(voucher_import.InputError) as raised:
        voucher_import.prepare({"cards": pa.table({"Cdoe": ["A"]})}, campaign_type="gift")
    assert raised.value.path == "cards"


def test_header_problems_are_a_header_error_listing_each() -> None:
    with pytest.raises(voucher_import.HeaderError) as raised:
        voucher_import.prepare("fixtures/real_world/identical_names.csv", campaign_type="gift")
    assert raised.value.kind == "header"
    assert raised.value.problems
    assert all(p["fix"] and p["path"] for p in raised.value.problems)


def test_a_broken_rule_is_a_rule_error() -> None:
    with pytest.raises(voucher_import.RuleError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", rules=["-- rule: broken\nSELECT FROM WHERE\n"])
    assert raised.value.path == "rule text 1"
    assert raised.value.fix


def test_usage_errors_name_the_keyword() -> None:
    with pytest.raises(voucher_import.UsageError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", amount_unit="cents")
    assert "amount_unit" in raised.value.message and "--amount-unit" not in raised.value.message
    assert isinstance(raised.value, ValueError)
    with pytest.raises(voucher_import.UsageError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", amount_units="major")
    assert raised.value.fix == "did you mean amount_unit=?"
    with pytest.raises(voucher_import.UsageError):
        voucher_import.prepare(SAMPLE)  # no campaign
    with pytest.raises(voucher_import.UsageError):
        voucher_import.prepare(SAMPLE, campaign_type="gift", campaign={"campaign_type": "GIFT_VOUCHERS"})
    with pytest.raises(voucher_import.UsageError):
        voucher_import.prepare(SAMPLE, campaign_type="gift", case_insensitive_codes="yes")
    with pytest.raises(voucher_import.UsageError):
        voucher_import.prepare(SAMPLE, campaign_type="promotion")
    with pytest.raises(voucher_import.UsageError):
        voucher_import.prepare(object(), campaign_type="gift")
    with pytest.raises(voucher_import.UsageError):
        voucher_import.prepare([SAMPLE, pa.table({"Code": ["A"]})], campaign_type="gift")
    with pytest.raises(voucher_import.UsageError) as raised:
        voucher_import.prepare(SAMPLE, campaign={"campaign_type": "NOPE"})
    assert "campaign" in raised.value.message


def test_an_output_folder_that_holds_files_is_an_output_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(voucher_import.OutputError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", out=out)
    assert raised.value.path and "out" in raised.value.path
    assert (out / "keep.txt").read_text() == "mine"
    # An output folder that is an input's folder is refused even with force.
    with pytest.raises(voucher_import.OutputError):
        voucher_import.prepare(SAMPLE, campaign_type="gift", out="fixtures/sample", force=True)
    assert Path(SAMPLE).exists()


def test_a_missing_file_of_existing_codes_is_not_read_as_codes(tmp_path: Path) -> None:
    with pytest.raises(voucher_import.InputError):
        voucher_import.prepare(SAMPLE, campaign_type="gift", existing=[str(tmp_path / "codes.csv")])


def test_errors_survive_pickle() -> None:
    import pickle

    with pytest.raises(voucher_import.RuleError) as raised:
        voucher_import.prepare(SAMPLE, campaign_type="gift", rules=["-- rule: broken\nSELECT FROM\n"])
    again = pickle.loads(pickle.dumps(raised.value))
    assert type(again) is voucher_import.RuleError
    assert (again.kind, again.message, again.path, again.fix) == (
        raised.value.kind, raised.value.message, raised.value.path, raised.value.fix
    )
    assert str(again) == str(raised.value)


def test_a_nested_column_and_a_failing_stream_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(voucher_import.InputError) as raised:
        voucher_import.prepare(
            {"nested": pa.table({"Code": ["A"], "tags": [["x", "y"]]})}, campaign_type="gift"
        )
    assert raised.value.path == "nested" and "tags" in raised.value.message
    schema = pa.schema([("Code", pa.string())])

    def failing():  # type: ignore[no-untyped-def]
        yield pa.record_batch([pa.array(["A", "B"])], schema=schema)
        raise RuntimeError("the warehouse went away")

    out = tmp_path / "out"
    with pytest.raises(voucher_import.InputError) as raised:
        voucher_import.prepare(
            pa.RecordBatchReader.from_batches(schema, failing()), campaign_type="gift", out=out
        )
    assert "the warehouse went away" in raised.value.message
    assert raised.value.path == "table"
    assert list(tmp_path.iterdir()) == []  # no folder, no staging folder
