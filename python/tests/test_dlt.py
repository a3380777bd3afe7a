"""voucher_import.dlt against the real dlt: one prepared folder per table and load, judged
in input order, one job at a time, with the codes of earlier loads carried as existing
codes, and an upload when asked."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

dlt = pytest.importorskip("dlt")

from voucher_import import dlt as vi_dlt  # noqa: E402
from test_upload import APP_ID, TOKEN, FakeVoucherify, fake  # noqa: E402,F401


def rows(codes: List[str]) -> Iterator[Dict[str, Any]]:
    for seq, code in enumerate(codes, start=1):
        yield {"seq": seq, "Code": code, "Gift Amount": "1000", "order_id": f"ORD-{code}-{seq}"}


def read(path: Path) -> List[Dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def folders(out: Path) -> List[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


def pipeline(tmp_path: Path, destination: Any) -> Any:
    return dlt.pipeline(
        "cards", destination=destination, pipelines_dir=str(tmp_path / "pipelines")
    )


def test_each_load_is_a_folder_and_later_loads_see_earlier_codes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    loads: List[Any] = []
    destination = vi_dlt.destination(
        out,
        campaign_type="gift",
        keep=["order_id", "seq"],
        on_load=lambda folder, result, outcome: loads.append((folder, result)),
    )
    p = pipeline(tmp_path, destination)
    p.run(rows(["A-1", "B-1", "A-1"]), table_name="gift_cards")
    p.run(rows(["B-1", "C-1"]), table_name="gift_cards")

    first, second = folders(out)
    assert first.name.startswith("00001-gift_cards-") and second.name.startswith("00002-")
    # Input order: the first A-1 wins, the third row repeats it.
    rejected = read(first / "rejected.csv")
    assert [(r["order_id"], r["rules"]) for r in rejected] == [("ORD-A-1-3", "duplicate_code")]
    batch = (first / "import" / "part-00001.csv").read_text()
    assert batch.splitlines() == ["Code,Gift Amount", "A-1,1000", "B-1,1000"]
    # B-1 went in with the first load: the second sees it as existing.
    rejected = read(second / "rejected.csv")
    assert [(r["order_id"], r["rules"]) for r in rejected] == [("ORD-B-1-1", "existing_code")]
    assert [r["code"] for r in read(out / vi_dlt.CARRIED_CODES)] == ["A-1", "B-1", "C-1"]
    assert [result.summary["accepted"] for _, result in loads] == [2, 1]


def test_a_campaign_limit_holds_across_loads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    campaign = {"id": "camp_1", "campaign_type": "GIFT_VOUCHERS", "vouchers_count": 1}
    destination = vi_dlt.destination(out, campaign=campaign, campaign_limit=3)
    p = pipeline(tmp_path, destination)
    p.run(rows(["A-1"]), table_name="gift_cards")
    p.run(rows(["B-1", "C-1"]), table_name="gift_cards")
    second = folders(out)[1]
    rejected = read(second / "rejected.csv")
    assert [(r["Code"], r["rules"]) for r in rejected] == [("C-1", "over_campaign_limit")]
    assert "3 codes is reached (2 already in the campaign, 1 accepted before this row)" in (
        rejected[0]["reason"]
    )


def test_a_table_dlt_splits_is_put_back_in_order_by_order_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dlt writes at most two rows per load file, and mixes them between files.
    monkeypatch.setenv("DATA_WRITER__FILE_MAX_ITEMS", "2")
    out = tmp_path / "out"
    destination = vi_dlt.destination(out, campaign_type="gift", order_by="seq", keep="seq")
    codes = ["A-1", "B-1", "C-1", "A-1", "D-1", "B-1", "E-1"]
    pipeline(tmp_path, destination).run(rows(codes), table_name="gift_cards")
    (folder,) = folders(out)
    rejected = read(folder / "rejected.csv")
    assert [(r["seq"], r["rules"]) for r in rejected] == [
        ("4", "duplicate_code"),
        ("6", "duplicate_code"),
    ]
    origins = read(folder / "origins.csv")
    assert [o["seq"] for o in origins] == ["1", "2", "3", "5", "7"]


def test_a_split_table_without_order_by_fails_its_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_WRITER__FILE_MAX_ITEMS", "2")
    destination = vi_dlt.destination(tmp_path / "out", campaign_type="gift")
    with pytest.raises(Exception) as raised:
        pipeline(tmp_path, destination).run(rows(["A-1", "B-1", "C-1"]), table_name="t")
    assert "order_by=COLUMN" in str(raised.value)
    assert not any((tmp_path / "out").glob("0*/summary.json")), "nothing prepared"


def test_upload_to_a_campaign_after_each_load(
    tmp_path: Path, fake: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("VOUCHERIFY_APP_ID", APP_ID)
    monkeypatch.setenv("VOUCHERIFY_APP_TOKEN", TOKEN)
    outcomes: List[Dict[str, Any]] = []
    destination = vi_dlt.destination(
        tmp_path / "out",
        campaign_type="gift",
        upload="camp_1",
        upload_options={"api_url": fake, "verify": 0, "poll_ms": 10},
        on_load=lambda folder, result, outcome: outcomes.append(outcome),
    )
    p = pipeline(tmp_path, destination)
    p.run(rows(["A-1", "B-1"]), table_name="gift_cards")
    p.run(rows(["C-1"]), table_name="gift_cards")
    assert [o["codes_imported"] for o in outcomes] == [2, 1]
    assert FakeVoucherify.posts == ["aa_1", "aa_2"]
