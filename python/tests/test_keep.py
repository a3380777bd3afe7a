"""``keep=``: the caller's key goes with each row into the accepted, rejected and warned
tables and the folder's reports, never into a batch or metadata, so that every verdict joins
back to the caller's rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

import voucher_import


def orders() -> pa.Table:
    return pa.table(
        {
            "order_id": pa.array([1001, 1002, 1003, 1004, 1005], pa.int64()),
            "Code": ["K-1", "K-2", "K-1", "K-4", "k-4"],
            "Gift Amount": ["5000", "abc", "2500", "1000", "700"],
            "region": ["EU", "US", "EU", "US", "EU"],
        }
    )


def test_kept_columns_travel_with_every_verdict_in_the_sources_type(tmp_path: Path) -> None:
    result = voucher_import.prepare(
        orders(), campaign_type="gift", keep=["order_id"], out=tmp_path / "out"
    )
    accepted = result.accepted
    assert accepted.column_names == ["Code", "Gift Amount", "region", "order_id"]
    assert accepted.schema.field("order_id").type == pa.int64()
    assert accepted.to_pydict()["order_id"] == [1001, 1004, 1005]
    rejected = result.rejected.to_pydict()
    assert dict(zip(rejected["order_id"], rejected["rules"])) == {
        1002: "invalid_number",
        1003: "duplicate_code",
    }
    warned = result.warnings.to_pydict()
    assert warned["order_id"] == [1005] and warned["rules"] == ["case_variant_code"]
    assert result.summary["kept_columns"] == ["order_id"]
    assert "order_id" not in result.summary.get("metadata_types", {})

    folder = tmp_path / "out"
    batch = (folder / "import" / "part-00001.csv").read_text()
    assert "order_id" not in batch and "1001" not in batch
    with open(folder / "origins.csv", newline="") as f:
        origins = list(csv.DictReader(f))
    assert [o["order_id"] for o in origins] == ["1001", "1004", "1005"]
    # Every input row is in exactly one place, and the key says which.
    keys = accepted.to_pydict()["order_id"] + rejected["order_id"]
    assert sorted(keys) == [1001, 1002, 1003, 1004, 1005]


def test_a_kept_column_of_several_types_stays_text() -> None:
    first = orders().slice(0, 2)
    second = orders().slice(3, 1).set_column(
        0, "order_id", pa.array(["A-1004"], pa.string())
    )
    result = voucher_import.prepare([first, second], campaign_type="gift", keep="order_id")
    assert result.accepted.schema.field("order_id").type == pa.string()
    assert result.accepted.to_pydict()["order_id"] == ["1001", "A-1004"]


def test_keeping_an_import_column_is_refused_naming_the_fix() -> None:
    with pytest.raises(voucher_import.InputError) as raised:
        voucher_import.prepare(orders(), campaign_type="gift", keep=["Code"])
    assert "is the import column 'Code'" in str(raised.value)


def test_with_nothing_accepted_the_accepted_table_still_has_the_kept_columns() -> None:
    table = pa.table({"Code": ["", ""], "order_id": [1, 2]})
    result = voucher_import.prepare(table, campaign_type="gift", keep=["order_id"])
    assert result.accepted.num_rows == 0
    assert "order_id" in result.accepted.column_names
    assert result.rejected.to_pydict()["order_id"] == [1, 2]
