"""prepare() with the campaign and schema of the user's project: from a snapshot a connected
run kept (`project_snapshot=`), and the connected run itself refused cleanly without
credentials (the fake Voucherify of the Rust tests covers the connected reads)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import voucher_import
from conftest import ROOT

CARDS = "fixtures/schema/cards_with_metadata.csv"


def snapshot(folder: Path) -> Path:
    """A project/ folder as a connected run writes it: the two answers and read.json."""
    project = folder / "project"
    project.mkdir(parents=True)
    campaign = json.dumps(
        {
            "id": "camp_snap",
            "name": "Spring discounts",
            "campaign_type": "DISCOUNT_COUPONS",
            "vouchers_count": 7,
            "active": True,
        }
    )
    schemas = (ROOT / "fixtures/schema/metadata_schemas.json").read_text(encoding="utf-8")
    (project / "campaign.json").write_text(campaign, encoding="utf-8")
    (project / "metadata-schemas.json").write_text(schemas, encoding="utf-8")
    read = {
        "api_url": "https://api.voucherify.io",
        "campaign": "Spring discounts",
        "campaign_id": "camp_snap",
        "read_at": "2026-12-07T10:00:00Z",
        "campaign_sha256": hashlib.sha256(campaign.encode()).hexdigest(),
        "metadata_schemas_sha256": hashlib.sha256(schemas.encode()).hexdigest(),
    }
    (project / "read.json").write_text(json.dumps(read), encoding="utf-8")
    return folder


def test_a_snapshot_gives_the_campaign_and_the_schema(tmp_path: Path) -> None:
    folder = snapshot(tmp_path / "earlier")
    result = voucher_import.prepare(CARDS, project_snapshot=folder)
    by_files = voucher_import.prepare(
        CARDS,
        campaign=folder / "project" / "campaign.json",
        metadata_schema="fixtures/schema/metadata_schemas.json",
    )
    assert result.summary["campaign"]["campaign_type"] == "DISCOUNT_COUPONS"
    assert result.summary["options"]["codes_in_campaign"] == 7
    assert result.summary["project"]["offline"] is True
    assert result.summary["project"]["campaign_id"] == "camp_snap"
    assert result.summary["rejected_by_rule"] == by_files.summary["rejected_by_rule"]
    assert result.summary["metadata_types"] == by_files.summary["metadata_types"]


def test_a_connected_run_without_credentials_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VOUCHERIFY_APP_ID", raising=False)
    monkeypatch.delenv("VOUCHERIFY_APP_TOKEN", raising=False)
    with pytest.raises(voucher_import.UsageError, match="VOUCHERIFY_APP_ID"):
        voucher_import.prepare(CARDS, project_campaign="camp_snap", api_url="http://127.0.0.1:9")


def test_import_splits_its_options_and_refuses_what_neither_half_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(voucher_import.UsageError, match="unknown option 'no_such_option'"):
        voucher_import.import_(CARDS, "camp_x", tmp_path / "out", no_such_option=1)
    with pytest.raises(voucher_import.UsageError, match="campaign argument"):
        voucher_import.import_(CARDS, "camp_x", tmp_path / "out", campaign_type="gift")
    monkeypatch.delenv("VOUCHERIFY_APP_ID", raising=False)
    monkeypatch.delenv("VOUCHERIFY_APP_TOKEN", raising=False)
    with pytest.raises(voucher_import.UsageError, match="VOUCHERIFY_APP_ID"):
        voucher_import.import_(
            CARDS, "camp_x", tmp_path / "out", api_url="http://127.0.0.1:9", dry_run=True
        )
    assert not (tmp_path / "out").exists()


def test_a_campaign_id_reads_the_project_and_one_that_is_also_a_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOUCHERIFY_APP_ID", raising=False)
    monkeypatch.delenv("VOUCHERIFY_APP_TOKEN", raising=False)
    cards = str(ROOT / CARDS)
    # An id: the project is read (here: without credentials, which the error names).
    with pytest.raises(voucher_import.UsageError, match="VOUCHERIFY_APP_ID"):
        voucher_import.prepare(cards, campaign="camp_abc123", api_url="http://127.0.0.1:9")
    # An id that is also a file here: never guessed.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "camp_abc123").write_text("{}", encoding="utf-8")
    with pytest.raises(voucher_import.UsageError, match="both a campaign id and a file"):
        voucher_import.prepare(cards, campaign="camp_abc123")
