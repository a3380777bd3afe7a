"""Dagster asset checks from a :func:`voucher_import.prepare` run: one check per rule in force,
failed when the rule rejected (or warned of) a row, with the rule's severity, the count and the
first example as metadata. Needs the ``dagster`` extra (``pip install voucher-import[dagster]``).

>>> from dagster import asset
>>> from voucher_import import dagster as vi_dagster
>>> SPECS = vi_dagster.check_specs("gift_cards")                  # doctest: +SKIP
>>> @asset(check_specs=SPECS)                                        # doctest: +SKIP
... def gift_cards():
...     result = voucher_import.prepare("cards.csv", campaign_type="gift", out="/data/gift")
...     yield dagster.Output(result.summary["accepted"])
...     yield from vi_dagster.asset_check_results(result, specs=SPECS)

A check's severity is what the rule did: ``ERROR`` for a rule that rejected rows, ``WARN`` for
a ``warn`` rule (the row is imported and listed in ``Result.warnings``). A rule that could not be
evaluated (``summary["rule_errors"]``) is a failed ``ERROR`` check.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any, Dict, List, Optional, Sequence, Union

try:
    import dagster as _dagster
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError(
        "voucher_import.dagster needs Dagster: pip install 'voucher-import[dagster]'"
    ) from error

from . import Result

AssetKeyLike = Union[str, Sequence[str], "_dagster.AssetKey"]


def rule_names(
    rules: Optional[Sequence[str]] = None, disable_rules: Optional[Sequence[str]] = None
) -> List[str]:
    """The names of the rules in force (the built-in ones, plus the rule files ``rules``, less
    ``disable_rules``), as ``voucher-import rules --names`` lists them."""
    argv = [sys.executable, "-m", "voucher_import", "rules", "--names"]
    for path in rules or []:
        argv += ["--rules", str(path)]
    for name in disable_rules or []:
        argv += ["--disable-rule", name]
    listed = subprocess.run(argv, capture_output=True, text=True)
    if listed.returncode != 0:
        raise ValueError(f"the rules could not be listed: {listed.stderr.strip()}")
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()]


def check_specs(
    asset: AssetKeyLike,
    *,
    rules: Optional[Sequence[str]] = None,
    disable_rules: Optional[Sequence[str]] = None,
    blocking: bool = False,
) -> List["_dagster.AssetCheckSpec"]:
    """The check specs of ``asset``, one per rule in force (see :func:`rule_names`), for
    ``@asset(check_specs=...)`` or ``@multi_asset_check(specs=...)``. ``blocking=True`` stops
    the assets downstream when a check of ``ERROR`` severity fails."""
    return [
        _dagster.AssetCheckSpec(
            name,
            asset=asset,
            description=f"no row broke the voucher-import rule {name}",
            blocking=blocking,
        )
        for name in rule_names(rules, disable_rules)
    ]


def asset_check_results(
    result: Result,
    *,
    asset_key: Optional[AssetKeyLike] = None,
    specs: Optional[Sequence["_dagster.AssetCheckSpec"]] = None,
) -> List["_dagster.AssetCheckResult"]:
    """One ``AssetCheckResult`` per rule of ``result``'s run: passed when the rule found no
    row; otherwise failed, with the rule's severity (``ERROR`` rejecting, ``WARN`` warning) and
    as metadata the rows it rejected and warned of and its first example (file or source,
    row, reason). ``asset_key`` is needed only where Dagster cannot tell the asset (a
    multi-asset check over several assets).

    With ``specs`` (what :func:`check_specs` gave the asset), there is one result per spec,
    as Dagster wants: a declared rule the run did not have in force (``update_ignores_fields``
    outside ``existing_codes="update"``) passes, noted so; a rule of the run that no spec
    declares raises ``ValueError`` (give ``check_specs`` the same ``rules`` and
    ``disable_rules`` as ``prepare``), never dropped."""
    summary = result.summary
    rejected: Dict[str, int] = summary.get("rejected_by_rule") or {}
    warned: Dict[str, int] = summary.get("warnings_by_rule") or {}
    first: Dict[str, Dict[str, Any]] = summary.get("first_rejected_by_rule") or {}
    errors: Dict[str, Any] = summary.get("rule_errors") or {}
    first_warnings = _first_warnings(result)
    checks = []
    for name in list(rejected) + [n for n in warned if n not in rejected]:
        rejecting, warning = int(rejected.get(name, 0)), int(warned.get(name, 0))
        metadata: Dict[str, Any] = {"rejected_rows": rejecting, "warned_rows": warning}
        example = first.get(name) or first_warnings.get(name)
        if example:
            metadata["first_example"] = _example_text(example)
        if name in errors:
            metadata["rule_error"] = str(errors[name])
        checks.append(
            _dagster.AssetCheckResult(
                check_name=name,
                asset_key=asset_key,
                passed=rejecting == 0 and warning == 0 and name not in errors,
                # What the rule did in this run: it rejected rows (or could not be
                # evaluated), or only warned; a rule listed as a warn rule warns.
                severity=(
                    _dagster.AssetCheckSeverity.ERROR
                    if rejecting > 0 or name in errors or name not in warned
                    else _dagster.AssetCheckSeverity.WARN
                ),
                metadata=metadata,
            )
        )
    for name in errors:
        if name not in rejected and name not in warned:
            checks.append(
                _dagster.AssetCheckResult(
                    check_name=name,
                    asset_key=asset_key,
                    passed=False,
                    severity=_dagster.AssetCheckSeverity.ERROR,
                    metadata={"rule_error": str(errors[name])},
                )
            )
    if specs is None:
        return checks
    declared = [spec.name for spec in specs]
    undeclared = [c.check_name for c in checks if c.check_name not in declared]
    if undeclared:
        raise ValueError(
            f"the run has rules no check spec declares: {', '.join(undeclared)}; give "
            "check_specs() the rules and disable_rules that prepare() was given"
        )
    for name in declared:
        if all(c.check_name != name for c in checks):
            checks.append(
                _dagster.AssetCheckResult(
                    check_name=name,
                    asset_key=asset_key,
                    passed=True,
                    metadata={"in_force": False},
                    description="the rule was not in force in this run",
                )
            )
    return checks


def _first_warnings(result: Result) -> Dict[str, Dict[str, Any]]:
    """The first warned row of each warn rule, from ``Result.warnings``."""
    table = result.warnings
    if table.num_rows == 0 or "rules" not in table.column_names:
        return {}
    firsts: Dict[str, Dict[str, Any]] = {}
    for row in table.select(
        [c for c in ("file", "source", "row", "rules", "reason") if c in table.column_names]
    ).to_pylist():
        for name in str(row.get("rules") or "").split("|"):
            firsts.setdefault(name, row)
    return firsts


def _example_text(example: Dict[str, Any]) -> str:
    where = example.get("file") or example.get("source") or ""
    return f"{where} row {example.get('row')}: {example.get('reason')}"
