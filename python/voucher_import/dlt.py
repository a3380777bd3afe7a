"""A dlt destination that prepares (and, if asked, uploads) what a pipeline yields: dlt's
documented hook for reverse ETL, pointed at a Voucherify campaign. Needs the ``dlt`` extra
(``pip install voucher-import[dlt]``).

>>> import dlt
>>> from voucher_import import dlt as vi_dlt
>>> cards = vi_dlt.destination("/data/gift", campaign_type="gift")    # doctest: +SKIP
>>> dlt.pipeline("cards", destination=cards).run(rows(), table_name="gift_cards")  # doctest: +SKIP

The rows of each table of each load become one prepared folder under ``out``
(``00001-gift_cards-<load id>``), with its batches, rejected.csv and summary.json, as
:func:`voucher_import.prepare` writes it; with ``upload=CAMPAIGN`` it is then uploaded.

What a pipeline would otherwise get subtly wrong is done here:

- **One job at a time.** dlt runs load jobs in parallel by default; this destination asks
  for one at a time (``loader_parallelism_strategy="sequential"``,
  ``max_parallel_load_jobs=1``), so no two runs share a folder or race on the campaign.
- **Input order.** With its default settings dlt writes a table of one load into one load
  file, in the order the resource yielded the rows: that order is the input order, the first
  occurrence of a code wins. When dlt splits a table into several load files
  (``data_writer.file_max_items`` or ``file_max_bytes``), it hands them over in no order and
  mixes the rows between them; the destination then reads every load file of the table at
  the first job and needs ``order_by=COLUMN`` (a column of yours that numbers the rows) to
  put them back in order. Without it such a load fails, rather than judging rows in an order
  nobody chose.
- **One dedup scope across loads.** The codes accepted in every earlier folder under ``out``
  (of this process and of earlier ones, read back from their batches) are given to the next
  load as existing codes: a code repeated in a later load is rejected as ``existing_code``,
  never imported twice. With a ``campaign`` object, its ``vouchers_count`` grows by them too,
  so the campaign limit holds across loads.
- **Resumable.** A load whose folder is complete is not prepared again (dlt retries a job
  that failed); an upload resumes without posting a batch twice.

A load that cannot be prepared (a file-level error, or more rejected rows than
``max_rejected`` allows) fails its job with the error; rejected rows are data, in each
folder's rejected.csv. An upload that leaves codes not imported fails the job terminally,
naming upload-failed.csv.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Union

try:
    import dlt as _dlt
    from dlt.common.destination.exceptions import DestinationTerminalException
except ImportError as error:  # pragma: no cover - the message is the point
    raise ImportError(
        "voucher_import.dlt needs dlt: pip install 'voucher-import[dlt]'"
    ) from error

import pyarrow as pa
import pyarrow.parquet as pq

from . import Result, prepare
from . import upload as _upload
from ._arguments import is_path
from .errors import UsageError

_log = logging.getLogger("voucher_import.dlt")

#: The file the codes accepted so far are given to the next load file in (as ``existing``).
CARRIED_CODES = "accepted-codes.csv"
#: The file codes given as values in ``existing=`` are written to, once.
GIVEN_CODES = "existing-given.csv"

PathLike = Union[str, "os.PathLike[str]"]


class _Loader:
    """The state one destination keeps: the folders prepared under ``out`` and the codes
    accepted in them, in the order they were prepared."""

    def __init__(
        self,
        out: Path,
        upload_to: Optional[str],
        upload_options: Mapping[str, Any],
        on_load: Optional[Callable[[Path, Optional[Result], Optional[Dict[str, Any]]], None]],
        order_by: Optional[str],
        options: Dict[str, Any],
    ) -> None:
        self.out = out
        self.order_by = order_by
        self.upload_to = upload_to
        self.upload_options = dict(upload_options)
        self.on_load = on_load
        self.campaign = _campaign_object(options.pop("campaign", None))
        self.existing = options.pop("existing", None)
        self.options = options
        self.lock = threading.Lock()
        self.carried: Optional[List[str]] = None
        self.carried_set: Set[str] = set()

    def load(self, path: str, table: Mapping[str, Any]) -> None:
        with self.lock:
            self._load(Path(path), str(table.get("name") or "table"))

    def _load(self, path: Path, table_name: str) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        if self.carried is None:
            self._read_carried()
        identity = _safe(f"{table_name}-{_load_id(path)}")
        folder = self._folder_of(identity)
        result: Optional[Result] = None
        if (folder / "summary.json").exists():
            _log.info("%s: its load was prepared before (%s)", path.name, folder.name)
        else:
            rows = self._rows_of_load(path, table_name)
            _log.info("%s: %d rows into %s", path.name, rows.num_rows, folder.name)
            result = prepare(
                rows,
                out=folder,
                existing=self._existing(),
                **self._campaign_options(),
                **self.options,
            )
        self._carry(folder)
        outcome = None
        if self.upload_to is not None:
            outcome = _upload(folder, self.upload_to, **self.upload_options)
            if not _imported_whole(outcome):
                raise DestinationTerminalException(
                    f"{folder}: Voucherify did not import every code of the load file "
                    f"({outcome.get('codes_failed', 0)} failed, "
                    f"{outcome.get('rows_without_verdict', 0)} without a verdict); the rows are "
                    f"in {outcome.get('failed_file') or folder / 'upload-failed.csv'}: fix them "
                    "and prepare them again, or upload the folder again to resume"
                )
        if self.on_load is not None:
            self.on_load(folder, result, outcome)

    def _rows_of_load(self, path: Path, table_name: str) -> pa.Table:
        """Every row of the table's load files, in input order (see the module's doc)."""
        files = _load_files(path, table_name)
        tables = [_rows_of(file) for file in files]
        rows = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")
        if self.order_by is not None:
            if self.order_by not in rows.column_names:
                raise DestinationTerminalException(
                    f"order_by={self.order_by!r}: the table {table_name} has no such column "
                    f"(it has {', '.join(rows.column_names)})"
                )
            rows = rows.sort_by(self.order_by)
        elif len(files) > 1:
            raise DestinationTerminalException(
                f"dlt split the table {table_name} into {len(files)} load files, which it hands "
                "over in no order, with their rows mixed: give the destination "
                "order_by=COLUMN (a column that numbers your rows), or leave "
                "data_writer.file_max_items and file_max_bytes unset (one file per load)"
            )
        return rows

    def _folder_of(self, identity: str) -> Path:
        """The load file's folder: the one prepared for it before, or the next number."""
        numbered = sorted(p for p in self.out.iterdir() if p.is_dir() and _NUMBERED.match(p.name))
        for folder in numbered:
            if folder.name.split("-", 1)[1] == identity:
                return folder
        number = int(numbered[-1].name.split("-", 1)[0]) + 1 if numbered else 1
        return self.out / f"{number:05d}-{identity}"

    def _read_carried(self) -> None:
        """The codes accepted under ``out`` before this process: from the batches."""
        self.carried = []
        for folder in sorted(p for p in self.out.iterdir() if _NUMBERED.match(p.name)):
            if (folder / "summary.json").exists():
                self._add_codes(_batch_codes(folder))

    def _carry(self, folder: Path) -> None:
        self._add_codes(_batch_codes(folder))
        target = self.out / CARRIED_CODES
        staged = target.with_suffix(".csv.tmp")
        with open(staged, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["code"])
            writer.writerows([code] for code in self.carried or [])
        os.replace(staged, target)

    def _add_codes(self, codes: Iterable[str]) -> None:
        assert self.carried is not None
        for code in codes:
            if code not in self.carried_set:
                self.carried_set.add(code)
                self.carried.append(code)

    def _existing(self) -> List[Path]:
        files: List[Path] = []
        given = self.existing
        if given is not None:
            if is_path(given):
                files.append(Path(os.fspath(given)))
            elif all(isinstance(item, os.PathLike) for item in given):
                files += [Path(os.fspath(item)) for item in given]
            else:
                listed = self.out / GIVEN_CODES
                if not listed.exists():
                    with open(listed, "w", newline="", encoding="utf-8") as f:
                        writer = csv.writer(f)
                        writer.writerow(["code"])
                        writer.writerows([str(code)] for code in given)
                self.existing = listed
                files.append(listed)
        if self.carried:
            files.append(self.out / CARRIED_CODES)
        return files

    def _campaign_options(self) -> Dict[str, Any]:
        if self.campaign is None:
            return {}
        campaign = dict(self.campaign)
        campaign["vouchers_count"] = int(campaign.get("vouchers_count") or 0) + len(
            self.carried or []
        )
        return {"campaign": campaign}


_NUMBERED = re.compile(r"^\d{5,}-")


def destination(
    out: PathLike,
    *,
    upload: Optional[str] = None,
    upload_options: Optional[Mapping[str, Any]] = None,
    on_load: Optional[Callable[[Path, Optional[Result], Optional[Dict[str, Any]]], None]] = None,
    order_by: Optional[str] = None,
    name: str = "voucher_import",
    **options: Any,
) -> Any:
    """A dlt destination that prepares each load file into a folder under ``out`` (and
    uploads it to the campaign ``upload`` names, when given).

    Args:
        out: the folder the prepared folders go under (created when missing), one per load
            file, numbered in the order they were loaded, with ``accepted-codes.csv``: the
            codes accepted so far, given to the next load file as existing codes.
        upload: a campaign's id or name: each folder is uploaded to it once prepared
            (:func:`voucher_import.upload`; the credentials come from ``VOUCHERIFY_APP_ID``
            and ``VOUCHERIFY_APP_TOKEN``). Without ``campaign`` or ``campaign_type``, the
            campaign is read from the project too (``project_campaign``).
        upload_options: options of :func:`voucher_import.upload` (``verify="sample"``, ...).
        on_load: called after each load job with its folder, the :class:`Result` (None when
            the folder was prepared before, by this job or an earlier one) and the upload's
            outcome (None without ``upload``).
        order_by: a column that numbers the rows in input order: the rows of a load are
            judged in its order (needed when dlt splits a table into several load files).
        name: the destination's name in dlt's configuration.
        **options: the options of :func:`voucher_import.prepare` (``campaign_type``,
            ``campaign``, ``existing``, ``rules``, ``keep``, ``max_rejected``, ...). ``out``
            is the destination's own.

    Returns:
        A dlt destination, for ``dlt.pipeline(destination=...)``.
    """
    if "out" in options:
        raise UsageError(
            "destination() takes the folder as its first argument, not out=",
            fix="pass destination('/data/gift', ...)",
        )
    if upload is not None and not any(
        k in options for k in ("campaign", "campaign_type", "project_campaign", "project_snapshot")
    ):
        options["project_campaign"] = upload
    loader = _Loader(
        Path(os.fspath(out)), upload, upload_options or {}, on_load, order_by, options
    )

    def voucher_import_load(items: Any, table: Any) -> None:
        loader.load(items, table)

    return _dlt.destination(
        voucher_import_load,
        batch_size=0,
        loader_file_format="parquet",
        name=name,
        naming_convention="direct",
        skip_dlt_columns_and_tables=True,
        max_table_nesting=0,
        max_parallel_load_jobs=1,
        loader_parallelism_strategy="sequential",
    )()


def _campaign_object(campaign: Any) -> Optional[Dict[str, Any]]:
    """The campaign object given as a dict or a JSON file (its ``vouchers_count`` grows with
    each load file); a campaign id goes to the project, as :func:`prepare` takes it."""
    if campaign is None:
        return None
    if isinstance(campaign, Mapping):
        return dict(campaign)
    if is_path(campaign) and os.path.isfile(os.fspath(campaign)):
        with open(os.fspath(campaign), encoding="utf-8") as f:
            loaded = json.load(f)
        if not isinstance(loaded, dict):
            raise UsageError(
                f"{os.fspath(campaign)} holds no campaign object",
                fix="pass the JSON of GET /v1/campaigns/{id}",
            )
        return loaded
    raise UsageError(
        f"campaign is {campaign!r}: the destination takes the campaign object (a dict or its "
        "JSON file)",
        fix="pass campaign={...}, campaign_type='gift', or upload='camp_...' to read it from the "
        "project",
    )


def _rows_of(path: Path) -> pa.Table:
    """A load file's rows, in the order dlt wrote them, without dlt's own columns."""
    table = pq.read_table(path)
    kept = [c for c in table.column_names if not c.startswith("_dlt_")]
    return table.select(kept)


def _batch_codes(folder: Path) -> List[str]:
    """The codes of a prepared folder's batches, in batch order."""
    codes: List[str] = []
    for batch in sorted((folder / "import").glob("part-*.csv")):
        with open(batch, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            if "Code" not in header:
                continue
            at = header.index("Code")
            codes += [row[at] for row in reader if len(row) > at]
    return codes


def _imported_whole(outcome: Mapping[str, Any]) -> bool:
    batches = outcome.get("batches") or []
    return (
        int(outcome.get("codes_failed") or 0) == 0
        and int(outcome.get("rows_without_verdict") or 0) == 0
        and int(outcome.get("batches_done") or 0) == len(batches)
    )


def _load_id(path: Path) -> str:
    """The load's id: the name of the package folder above ``started_jobs``."""
    for parent in path.parents:
        if re.fullmatch(r"\d+\.\d+", parent.name):
            return parent.name
    return "load"


def _load_files(path: Path, table_name: str) -> List[Path]:
    """Every load file of the table in the job's load package (dlt's package layout:
    ``<load id>/{new_jobs,started_jobs,completed_jobs}/<table>.<file id>.<retry>.<ext>``), one
    per file id; the job's own file alone when the layout is another."""
    package = path.parent.parent
    if path.parent.name != "started_jobs" or not re.fullmatch(r"\d+\.\d+", package.name):
        return [path]
    by_id: Dict[str, Path] = {}
    for folder in ("completed_jobs", "new_jobs", "started_jobs"):
        for file in sorted((package / folder).glob(f"{_glob_escape(table_name)}.*.parquet")):
            parts = file.name.split(".")
            if len(parts) == len(table_name.split(".")) + 3:
                by_id[parts[-3]] = file
    return sorted(by_id.values(), key=lambda f: f.name) or [path]


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)
