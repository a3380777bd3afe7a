"""`voucher_import.dagster` against the real Dagster: an asset that prepares the sample and
yields one check per rule, materialized in process."""

from __future__ import annotations

from pathlib import Path

import pytest

dagster = pytest.importorskip("dagster")

import voucher_import  # noqa: E402
from voucher_import import dagster as vi_dagster  # noqa: E402

SAMPLE = "fixtures/sample/gift_cards.csv"
EXISTING = "fixtures/sample/existing_codes.csv"


def test_an_asset_yields_one_check_per_rule_with_the_rules_severity(tmp_path: Path) -> None:
    specs = vi_dagster.check_specs("gift_cards")
    names = [spec.name for spec in specs]
    assert "invalid_number" in names and "case_variant_code" in names

    @dagster.asset(name="gift_cards", check_specs=specs)
    def gift_cards():
        result = voucher_import.prepare(
            SAMPLE, campaign_type="gift", existing=EXISTING, out=tmp_path / "out"
        )
        yield dagster.Output(result.summary["accepted"])
        yield from vi_dagster.asset_check_results(result, specs=specs)

    materialized = dagster.materialize([gift_cards])
    assert materialized.success
    evaluations = {e.check_name: e for e in materialized.get_asset_check_evaluations()}
    assert set(evaluations) == set(names)

    invalid_number = evaluations["invalid_number"]
    assert not invalid_number.passed
    assert invalid_number.severity == dagster.AssetCheckSeverity.ERROR
    assert invalid_number.metadata["rejected_rows"].value == 3
    assert "row 10: Gift Amount '12,50' is not an amount" in (
        invalid_number.metadata["first_example"].value
    )

    # A warn rule warns: the row was imported and listed in Result.warnings.
    case_variant = evaluations["case_variant_code"]
    assert not case_variant.passed
    assert case_variant.severity == dagster.AssetCheckSeverity.WARN
    assert case_variant.metadata["warned_rows"].value == 1
    assert "row" in case_variant.metadata["first_example"].value

    assert evaluations["unreadable_value"].passed
    # Declared, not in force in this run (it needs existing_codes="update"): passes, noted.
    assert evaluations["update_ignores_fields"].passed
    assert evaluations["update_ignores_fields"].metadata["in_force"].value is False


def test_a_rule_no_spec_declares_is_an_error_not_dropped() -> None:
    result = voucher_import.prepare(SAMPLE, campaign_type="gift")
    specs = vi_dagster.check_specs("gift_cards", disable_rules=["invalid_number"])
    with pytest.raises(ValueError, match="invalid_number"):
        vi_dagster.asset_check_results(result, specs=specs)


def test_without_specs_every_rule_of_the_run_is_checked() -> None:
    result = voucher_import.prepare(SAMPLE, campaign_type="gift", disable_rules=["invalid_date"])
    checks = vi_dagster.asset_check_results(result, asset_key="gift_cards")
    names = {c.check_name for c in checks}
    assert "invalid_date" not in names and "code_required" in names
    assert all(c.passed == (c.metadata["rejected_rows"].value + c.metadata["warned_rows"].value == 0) for c in checks)
