"""voucher-import for Python: voucher files and DataFrames into batches that Voucherify's
"import vouchers to an existing campaign" endpoint accepts, a report of every row that cannot go
in and why, and the upload.

>>> import voucher_import
>>> result = voucher_import.prepare("cards.csv", campaign_type="gift")      # doctest: +SKIP
>>> result.accepted.num_rows, result.rejected.num_rows                       # doctest: +SKIP
(10, 12)

- :func:`prepare` runs the engine on paths, pyarrow tables and readers, pandas and Polars
  DataFrames (anything with ``__arrow_c_stream__``) and gives a :class:`Result`: pyarrow tables
  of the accepted, rejected and warned rows, and the summary (``summary.json``). With ``out=``
  it also writes the prepared folder, exactly as ``voucher-import prepare`` does.
- :func:`upload` pushes a prepared folder and gives what ``voucher-import upload --json``
  prints.
- Errors are :class:`VoucherImportError` subclasses, one per kind (``.kind``, ``.path``,
  ``.message``, ``.fix``). Rejected rows are data, never errors.
- ``python -m voucher_import ...`` is the whole command line.

The engine runs with the GIL released; Ctrl-C stops it (KeyboardInterrupt), and a folder being
written is removed.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

import pyarrow as pa

from . import _arguments, _arrow, _native
from .errors import (
    CsvError,
    ExitPolicyError,
    HeaderError,
    InputError,
    InternalError,
    IoError,
    OutputError,
    ResourcesError,
    RuleError,
    RuleEvaluationError,
    RunInterruptedError,
    UploadError,
    UsageError,
    VoucherImportError,
    from_native,
    keyword_spelling,
)

__version__: str = _native.__version__

__all__ = [
    "prepare",
    "upload",
    "import_",
    "Result",
    "Imported",
    "VoucherImportError",
    "UploadError",
    "RunInterruptedError",
    "IoError",
    "InputError",
    "HeaderError",
    "CsvError",
    "RuleError",
    "RuleEvaluationError",
    "UsageError",
    "OutputError",
    "ResourcesError",
    "InternalError",
    "ExitPolicyError",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]

#: A campaign id as Voucherify makes them: ``camp_`` and letters and digits.
_CAMPAIGN_ID = re.compile(r"camp_[A-Za-z0-9]+")


@dataclass(frozen=True)
class Result:
    """What :func:`prepare` gives.

    Attributes:
        accepted: the accepted rows in the import layout: the batch columns (``Code``,
            ``Gift Amount``, ..., metadata), every one a string, values exactly as the import
            batches carry them, null for an empty cell, then the kept columns (``keep=``).
            When inputs have different columns, the union of the column groups (see
            ``accepted_by_group``). A kept column of table sources has the sources' type when
            its text casts back exactly (integers, booleans, dates, strings), else it is text.
        rejected: every rejected row: ``file``, ``row``, ``line`` for files (as in
            rejected.csv) or ``source``, ``row`` for tables, then ``rules`` (``|``-joined),
            ``reason``, and the input's columns as read.
        warnings: accepted rows that a ``warn`` rule flagged, in the layout of ``rejected``.
        summary: the run's summary, equal to ``summary.json``.
        accepted_by_group: the accepted rows of each column group that has any (each the
            layout of its own import files), in the order of ``summary["column_groups"]``; a
            group whose rows were all rejected has no batch and no table.
        folder: the prepared folder, when ``out=`` was given.
        exit_code: what the command line would exit with: 0, or 1 when rows were rejected
            (beyond ``max_rejected``; or warned of, with ``fail_on_warnings``).
    """

    accepted: pa.Table
    rejected: pa.Table
    warnings: pa.Table
    summary: Dict[str, Any]
    accepted_by_group: List[pa.Table]
    folder: Optional[Path]
    exit_code: int

    @property
    def ok(self) -> bool:
        """Whether the command line would exit 0."""
        return self.exit_code == 0

    def __repr__(self) -> str:
        s = self.summary
        where = f", folder={str(self.folder)!r}" if self.folder else ""
        return (
            f"Result(input_rows={s.get('input_rows')}, accepted={s.get('accepted')}, "
            f"rejected={s.get('rejected')}, warnings={s.get('warnings')}{where})"
        )


def prepare(
    source: Any,
    *,
    campaign_type: Optional[str] = None,
    campaign: Union[None, PathLike, Mapping[str, Any]] = None,
    existing: Union[None, PathLike, Iterable[Any]] = None,
    rules: Union[None, PathLike, Sequence[PathLike]] = None,
    disable_rules: Union[None, str, Sequence[str]] = None,
    metadata_schema: Union[None, PathLike, Mapping[str, Any]] = None,
    out: Optional[PathLike] = None,
    **options: Any,
) -> Result:
    """Prepares vouchers for Voucherify's campaign import, as ``voucher-import prepare``.

    Args:
        source: what to import. A path (str or ``os.PathLike``: a CSV, TSV, gzip or zstd
            file, a Parquet file, a folder or a glob) or a list of paths, read as the command
            line reads them; or a table: a pyarrow ``Table``, ``RecordBatch`` or
            ``RecordBatchReader`` (streamed, read once), a pandas or Polars DataFrame, a DuckDB
            relation, any object with ``__arrow_c_stream__`` or ``__arrow_c_array__``; a list
            of tables, or a dict ``{name: table}``, is several sources. A table's name stands
            for a file name in the report (``table``, or ``table 1``, ``table 2``, ...).
        campaign_type: ``discount``, ``gift``, ``loyalty``, ``referral`` (or the API names).
        campaign: the campaign object as ``GET /v1/campaigns/{id}`` returns it: a dict, or the
            path of a JSON file. Gives the type and the codes the campaign holds. A campaign
            id (``"camp_..."``) reads the campaign from the project instead, as
            ``project_campaign=`` does (a string that is both an id and an existing file is
            refused, never guessed; a campaign's name goes in ``project_campaign=``).
        existing: codes already in the project: a path or a list of paths (a CSV with a
            ``code`` column, or a one-column list), or any iterable of codes (a list, a set, a
            pandas Series, a pyarrow Array). A list of strings is read as files only when
            every one names an existing file; pass ``pathlib.Path`` objects to say so.
        rules: rules besides the built-in ones (see ``sql/README.md``): paths of rule files,
            or rule texts (a string with a line break is a text, named ``rule text N``).
        disable_rules: names of rules to switch off.
        metadata_schema: Voucherify's metadata schema (``GET /v1/metadata-schemas``) as a dict
            or the path of a JSON file.
        out: a folder to write as ``prepare --out`` does (it must not exist or be empty; see
            ``force=True``); missing parent folders are created. Nothing is written without
            it. Two calls of one process on the same ``out`` at once are refused
            (``OutputError`` naming the other run).
        **options: every other option of ``voucher-import prepare``, in snake_case;
            ``project_campaign="camp_..."`` (or the campaign's name) reads the campaign and
            the voucher metadata schema from the project the ``VOUCHERIFY_APP_ID`` and
            ``VOUCHERIFY_APP_TOKEN`` environment variables open (``api_url=`` or
            ``cluster=`` names the host), ``project_snapshot=DIR`` from what such a run kept
            in its folder. Others:
            ``amount_unit="major"``, ``case_insensitive_codes=True``,
            ``max_file_bytes=5_000_000``, ``rename={"voucher_code": "Code"}``,
            ``drop=["notes"]``, ``keep=["order_id"]`` (carried with each row into
            ``accepted``, ``rejected``, ``warnings`` and the folder's reports, never imported:
            every verdict joins back to your rows), ``from_="voucherify-export"``,
            ``max_rejected="1%"``,
            ``fail_on_warnings=True``, ``force=True``, ... A switch takes True or False; a
            repeatable option a list. Unlike the command line, no ``VOUCHER_IMPORT_*``
            environment variable is read: a call says everything it means.

    Returns:
        A :class:`Result`. Rejected rows are data: they do not raise, unless ``max_rejected``
        or ``fail_on_warnings`` is given and the run fails it (:class:`ExitPolicyError`, with
        the result attached), as the command line then exits 1.

    Raises:
        VoucherImportError: a subclass per kind (``InputError``, ``HeaderError``,
            ``RuleError``, ``UsageError``, ``OutputError``, ...) when the run cannot be done;
            nothing is written then.
        KeyboardInterrupt: Ctrl-C stopped the run; nothing is written.
    """
    paths, sources, schemas = _arguments.sources(source)
    argv: List[str] = []
    if campaign is not None and campaign_type is not None:
        raise UsageError(
            "prepare() was given both campaign and campaign_type",
            fix="pass one: the campaign object says its type",
        )
    from_project = options.get("project_campaign") or options.get("project_snapshot")
    if campaign is None and campaign_type is None and not from_project:
        raise UsageError(
            "prepare() was given no campaign",
            fix="pass campaign_type='gift' (discount, gift, loyalty, referral), campaign={...}, "
            "project_campaign='camp_...' (read from the project) or project_snapshot=DIR",
        )
    if campaign_type is not None:
        argv += ["--campaign-type", str(campaign_type)]
    if isinstance(campaign, str) and _CAMPAIGN_ID.fullmatch(campaign):
        # A campaign id (camp_...): read from the project. Never guessed when it is also a file.
        if os.path.exists(campaign):
            raise UsageError(
                f"campaign '{campaign}' is both a campaign id and a file here",
                fix="pass pathlib.Path(...) for the file, or project_campaign=... for the project's campaign",
            )
        if options.get("project_campaign"):
            raise UsageError(
                "prepare() was given both campaign and project_campaign",
                fix="pass one",
            )
        options["project_campaign"] = campaign
        campaign = None
    campaign_json = _arguments.dict_or_file(campaign, "campaign", "the campaign object", argv)
    existing_files, existing_codes = _arguments.existing(existing)
    for path in existing_files:
        argv += ["--existing", path]
    rule_files, rule_texts = _arguments.rules(rules)
    for path in rule_files:
        argv += ["--rules", path]
    for name in _arguments.strings(disable_rules, "disable_rules"):
        argv += ["--disable-rule", name]
    schema_json = _arguments.dict_or_file(metadata_schema, "metadata_schema", "the schema", argv)
    if out is not None:
        argv += ["--out", os.fspath(out)]
    argv += _arguments.options_argv(options, _native.prepare_options(), "prepare")

    with _writing(out):
        (
            summary_json,
            exit_code,
            policy_failure,
            accepted_streams,
            rejected_stream,
            warnings_stream,
        ) = _call(
            _native.prepare,
            argv,
            paths,
            sources,
            existing_codes,
            rule_texts,
            campaign_json,
            schema_json,
            options=_native.prepare_options(),
        )
    summary = json.loads(summary_json)
    kept = summary.get("kept_columns", [])

    def typed(table: pa.Table) -> pa.Table:
        return _arrow.restore_kept_types(table, kept, schemas) if kept and schemas else table

    groups = [typed(_arrow.read_stream(stream)) for stream in accepted_streams]
    result = Result(
        accepted=typed(_arrow.accepted_union(groups, summary)),
        rejected=typed(_arrow.read_stream(rejected_stream)),
        warnings=typed(_arrow.read_stream(warnings_stream)),
        summary=summary,
        accepted_by_group=groups,
        folder=Path(out) if out is not None else None,
        exit_code=exit_code,
    )
    if policy_failure:
        raise ExitPolicyError(
            policy_failure,
            result=result,
            fix="the rows are in .result.rejected (and rejected.csv with out=); fix them, "
            "or allow more with max_rejected",
        )
    return result


def upload(folder: PathLike, campaign: str, **options: Any) -> Dict[str, Any]:
    """Uploads a prepared folder to a campaign, as ``voucher-import upload``; gives what
    ``voucher-import upload --json`` prints (``batches``, ``codes_imported``,
    ``codes_failed``, ...).

    Args:
        folder: a folder :func:`prepare` (or the command line) wrote.
        campaign: the campaign's id or name.
        **options: every other option of ``voucher-import upload`` in snake_case:
            ``cluster="us1"``, ``dry_run=True``, ``parallel=4``, ``verify="all"``,
            ``canary=True``, ``adopt=["part-00003.csv=aa_0a1b"]``, ...

    The credentials come from the environment, as for the command line:
    ``VOUCHERIFY_APP_ID`` and ``VOUCHERIFY_APP_TOKEN``; other options may come from
    ``VOUCHER_IMPORT_*`` variables too (a keyword argument wins). Running it again resumes: no
    batch is posted twice. What the command line would say before sending anything is given
    as a ``UserWarning``.

    Raises:
        UploadError: talking to Voucherify failed in a way a retry does not fix.
        UsageError: missing credentials, or an option value that makes no sense.
        KeyboardInterrupt: Ctrl-C stopped the upload; ``upload.json`` says where it stands.
    """
    argv = _arguments.options_argv(options, _native.upload_options(), "upload")
    argv += ["--campaign", str(campaign), "--", os.fspath(folder)]
    upload_options = _native.upload_options()
    outcome_json, said = _call(_native.upload, argv, options=upload_options)
    for text in said:
        warnings.warn(keyword_spelling(text, upload_options), UserWarning, stacklevel=2)
    outcome: Dict[str, Any] = json.loads(outcome_json)
    return outcome


@dataclass(frozen=True)
class Imported:
    """What :func:`import_` did: the preparation (None when it resumed an upload) and the
    upload's outcome (what :func:`upload` gives)."""

    prepared: Optional[Result]
    uploaded: Dict[str, Any]


def import_(source: Any, campaign: str, out: PathLike, **options: Any) -> Imported:
    """Imports vouchers into a campaign in one call, as ``voucher-import import``: reads the
    campaign (its id or name), its voucher metadata schema and the codes already in the
    project from Voucherify, prepares ``out`` (:func:`prepare` with ``project_campaign``),
    then uploads it with the canary and the read-back (:func:`upload`). Called again on the
    same ``out`` after an upload started, it resumes the upload without reading the inputs.

    Args:
        source: what :func:`prepare` takes.
        campaign: the campaign's id (``camp_...``) or its name.
        out: the folder to prepare and upload from.
        **options: options of :func:`prepare` and of :func:`upload`, each going where it
            belongs (the connection's, ``api_url`` and ``cluster``, to both).

    The credentials come from ``VOUCHERIFY_APP_ID`` and ``VOUCHERIFY_APP_TOKEN``.
    """
    prepare_table = {keyword for keyword, *_ in _native.prepare_options()}
    upload_table = {keyword for keyword, *_ in _native.upload_options()}
    known_prepare = prepare_table | {"rules", "disable_rules", "metadata_schema", "existing"}
    for keyword in options:
        if keyword not in known_prepare and keyword not in upload_table:
            raise UsageError(
                f"import_() got an unknown option '{keyword}'",
                fix="see help(voucher_import.prepare) and help(voucher_import.upload)",
            )
        if keyword in ("campaign_type", "project_campaign", "project_snapshot"):
            raise UsageError(
                f"import_() takes the campaign as its campaign argument, not {keyword}",
                fix="pass the campaign's id or name as campaign=",
            )
    for_prepare = {k: v for k, v in options.items() if k in known_prepare}
    for_upload = {k: v for k, v in options.items() if k in upload_table}
    folder = Path(os.fspath(out))
    prepared = None
    if not (folder / "upload.json").exists():
        prepared = prepare(source, out=folder, project_campaign=campaign, **for_prepare)
    uploaded = upload(folder, campaign, **for_upload)
    return Imported(prepared=prepared, uploaded=uploaded)


def _call(function: Any, *args: Any, options: Any = None) -> Any:
    """Calls the engine; its errors are raised as the class of their kind, the options in
    their messages spelled as the keyword arguments of ``options`` (the function's table)."""
    try:
        return function(*args)
    except _native.NativeError as error:
        raise from_native(*error.args, options=options) from None


#: The folders ``prepare(out=...)`` calls of this process are writing: the real path, and who.
_OUT_IN_USE: Dict[str, str] = {}
_OUT_LOCK = threading.Lock()


@contextmanager
def _writing(out: Optional[PathLike]) -> Iterator[None]:
    """Claims ``out`` for one ``prepare()`` of this process (creating its missing parent
    folders); a second call on the same folder while the first runs is refused, naming the
    first, instead of the two colliding in the folder's staging."""
    if out is None:
        yield
        return
    parent = Path(out).absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(
            f"out='{os.fspath(out)}': its parent folder {parent} cannot be created: "
            f"{error.strerror or error}",
            kind="output",
            path=str(parent),
            fix="choose out= in a folder you can write to",
        ) from None
    key = os.path.realpath(out)
    who = (
        f"prepare() on thread '{threading.current_thread().name}', "
        f"started {time.strftime('%H:%M:%S')}"
    )
    with _OUT_LOCK:
        other = _OUT_IN_USE.get(key)
        if other is None:
            _OUT_IN_USE[key] = who
    if other is not None:
        raise OutputError(
            f"out='{os.fspath(out)}' is being written by another run of this process: {other}",
            kind="output",
            path=key,
            fix="give each run its own out= folder, or wait for the other run to end",
        )
    try:
        yield
    finally:
        with _OUT_LOCK:
            _OUT_IN_USE.pop(key, None)
