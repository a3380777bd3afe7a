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

import difflib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import pyarrow as pa
import pyarrow.ipc

from . import _native
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
)

__version__: str = _native.__version__

__all__ = [
    "prepare",
    "upload",
    "Result",
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


@dataclass(frozen=True)
class Result:
    """What :func:`prepare` gives.

    Attributes:
        accepted: the accepted rows in the import layout: the batch columns (``Code``,
            ``Gift Amount``, ..., metadata), every one a string, values exactly as the import
            batches carry them, null for an empty cell. When inputs have different columns,
            the union of the column groups (see ``accepted_by_group``).
        rejected: every rejected row: ``file``, ``row``, ``line`` for files (as in
            rejected.csv) or ``source``, ``row`` for tables, then ``rules`` (``|``-joined),
            ``reason``, and the input's columns as read.
        warnings: accepted rows that a ``warn`` rule flagged, in the layout of ``rejected``.
        summary: the run's summary, equal to ``summary.json``.
        accepted_by_group: the accepted rows of each column group (each the layout of its own
            import files), in the order of ``summary["column_groups"]``.
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
            path of a JSON file. Gives the type and the codes the campaign holds.
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
            ``force=True``). Nothing is written without it.
        **options: every other option of ``voucher-import prepare``, in snake_case:
            ``amount_unit="major"``, ``case_insensitive_codes=True``,
            ``max_file_bytes=5_000_000``, ``rename={"voucher_code": "Code"}``,
            ``drop=["notes"]``, ``from_="voucherify-export"``, ``max_rejected="1%"``,
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
    paths, sources = _sources(source)
    argv: List[str] = []
    if campaign is not None and campaign_type is not None:
        raise UsageError(
            "prepare() was given both campaign and campaign_type",
            fix="pass one: the campaign object says its type",
        )
    if campaign is None and campaign_type is None:
        raise UsageError(
            "prepare() was given no campaign",
            fix="pass campaign_type='gift' (discount, gift, loyalty, referral) or campaign={...}",
        )
    if campaign_type is not None:
        argv += ["--campaign-type", str(campaign_type)]
    campaign_json = _dict_or_file(campaign, "campaign", "the campaign object", argv)
    existing_files, existing_codes = _existing(existing)
    for path in existing_files:
        argv += ["--existing", path]
    rule_files, rule_texts = _rules(rules)
    for path in rule_files:
        argv += ["--rules", path]
    for name in _strings(disable_rules, "disable_rules"):
        argv += ["--disable-rule", name]
    schema_json = _dict_or_file(metadata_schema, "metadata_schema", "the schema", argv)
    if out is not None:
        argv += ["--out", os.fspath(out)]
    argv += _options_argv(options, _native.prepare_options(), "prepare")

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
    )
    summary = json.loads(summary_json)
    groups = [_read_stream(stream) for stream in accepted_streams]
    result = Result(
        accepted=_union(groups, summary),
        rejected=_read_stream(rejected_stream),
        warnings=_read_stream(warnings_stream),
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
    argv = _options_argv(options, _native.upload_options(), "upload")
    argv += ["--campaign", str(campaign), "--", os.fspath(folder)]
    outcome_json, said = _call(_native.upload, argv)
    for text in said:
        warnings.warn(text, UserWarning, stacklevel=2)
    outcome: Dict[str, Any] = json.loads(outcome_json)
    return outcome


def _call(function: Any, *args: Any) -> Any:
    """Calls the engine; its errors are raised as the class of their kind."""
    try:
        return function(*args)
    except _native.NativeError as error:
        raise from_native(*error.args) from None


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _sources(source: Any) -> Tuple[List[str], List[Tuple[str, Any]]]:
    """Paths, or (name, data) pairs of tables."""
    if _is_path(source):
        return [os.fspath(source)], []
    if isinstance(source, Mapping):
        return [], [(str(name), _arrow(table, str(name))) for name, table in source.items()]
    if isinstance(source, (list, tuple)):
        if not source:
            raise UsageError("prepare() was given an empty list", fix="pass a path or a table")
        if all(_is_path(item) for item in source):
            return [os.fspath(item) for item in source], []
        if any(_is_path(item) for item in source):
            raise UsageError(
                "prepare() was given both paths and tables",
                fix="prepare files and tables in separate calls, or read the files into tables",
            )
        names = [f"table {at}" for at in range(1, len(source) + 1)]
        return [], [(name, _arrow(table, name)) for name, table in zip(names, source)]
    return [], [("table", _arrow(source, "table"))]


def _arrow(table: Any, name: str) -> Any:
    """A table as the engine takes it: one IPC stream, or for a reader a stream of them."""
    if isinstance(table, pa.RecordBatchReader):
        return (_table_stream(pa.Table.from_batches([], schema=table.schema)), _batches(table))
    return _table_stream(_as_table(table, name))


def _as_table(data: Any, name: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        if type(data).__module__.split(".")[0] == "pandas" and hasattr(data, "columns"):
            return pa.Table.from_pandas(data, preserve_index=False)
        if hasattr(data, "__arrow_c_stream__"):
            try:
                return pa.table(data)
            except TypeError:
                return pa.RecordBatchReader.from_stream(data).read_all()
        if hasattr(data, "__arrow_c_array__"):
            return pa.Table.from_batches([pa.record_batch(data)])
        for method in ("to_arrow", "arrow"):
            if callable(getattr(data, method, None)):
                return _as_table(getattr(data, method)(), name)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise InputError(
            f"'{name}' cannot be read as Arrow data: {error}",
            kind="input",
            path=name,
            fix="give every column one type (df.astype(str) turns them all into text)",
        ) from error
    raise UsageError(
        f"prepare() cannot read a {type(data).__name__}",
        fix="pass a path, a pyarrow Table or RecordBatchReader, a pandas or Polars DataFrame, "
        "or an object with __arrow_c_stream__",
    )


def _table_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    stream: bytes = sink.getvalue().to_pybytes()
    return stream


def _batches(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    """The reader's batches one by one, each as an IPC stream, as the run asks for them."""
    for batch in reader:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        yield sink.getvalue().to_pybytes()


def _read_stream(stream: bytes) -> pa.Table:
    return pa.ipc.open_stream(stream).read_all()


def _union(groups: List[pa.Table], summary: Dict[str, Any]) -> pa.Table:
    """The accepted rows of every column group in one table (columns in first-seen order)."""
    if len(groups) == 1:
        return groups[0]
    if groups:
        return pa.concat_tables(groups, promote_options="default")
    columns: List[str] = []
    for group in summary.get("column_groups", []):
        columns += [c for c in group.get("columns", []) if c not in columns]
    return pa.table({c: pa.array([], pa.string()) for c in columns})


def _dict_or_file(value: Any, keyword: str, what: str, argv: List[str]) -> Optional[str]:
    """A JSON document given as a dict (its text, for the engine) or as a file (an option added
    to `argv`)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    if _is_path(value):
        argv += ["--" + keyword.replace("_", "-"), os.fspath(value)]
        return None
    raise UsageError(
        f"{keyword} is a {type(value).__name__}",
        fix=f"pass {what} as a dict, or the path of its JSON file",
    )


def _strings(value: Any, what: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(item) for item in value]
    raise UsageError(f"{what} is a {type(value).__name__}", fix="pass a string or a list of them")


def _rules(rules: Any) -> Tuple[List[str], List[str]]:
    """Rule files and rule texts: a string with a line break is a text."""
    if rules is None:
        return [], []
    items = [rules] if _is_path(rules) else list(rules)
    files: List[str] = []
    texts: List[str] = []
    for item in items:
        if isinstance(item, str) and ("\n" in item or "\r" in item):
            texts.append(item)
        elif _is_path(item):
            files.append(os.fspath(item))
        else:
            raise UsageError(
                f"a rule is a {type(item).__name__}",
                fix="pass the path of a rule file or the rule's text",
            )
    return files, texts


#: File name endings that say a string of `existing` is meant as a file.
_FILE_ENDINGS = (".csv", ".tsv", ".txt", ".gz", ".zst", ".parquet")


def _existing(existing: Any) -> Tuple[List[str], List[str]]:
    """Files of existing codes, and codes given as values."""
    if existing is None:
        return [], []
    if _is_path(existing):
        return [os.fspath(existing)], []
    if isinstance(existing, (pa.Array, pa.ChunkedArray)):
        return [], [str(code) for code in existing.to_pylist() if code is not None]
    items = list(existing)
    if items and all(isinstance(i, os.PathLike) for i in items):
        return [os.fspath(i) for i in items], []
    if items and all(isinstance(i, str) and os.path.isfile(i) for i in items):
        return list(items), []
    looks_like_files = [
        i for i in items if isinstance(i, str) and i.lower().endswith(_FILE_ENDINGS)
    ]
    if looks_like_files and len(looks_like_files) == len(items):
        missing = next(i for i in items if not os.path.isfile(i))
        raise InputError(
            f"{missing}: no such file of existing codes",
            kind="input",
            path=missing,
            fix="check the path (or pass the codes themselves)",
        )
    return [], [str(code) for code in items if not _is_missing(code)]


def _is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA: an empty cell of a column of codes, not a code."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _options_argv(
    options: Mapping[str, Any],
    known: Sequence[Tuple[str, str, bool, bool, List[str]]],
    function: str,
) -> List[str]:
    """Keyword arguments as the command line's options."""
    table = {keyword: (long, takes_value, repeatable) for keyword, long, takes_value, repeatable, _ in known}
    argv: List[str] = []
    for keyword, value in options.items():
        if keyword not in table:
            close = difflib.get_close_matches(keyword, list(table), n=1)
            hint = f"did you mean {close[0]}=?" if close else f"see help(voucher_import.{function})"
            raise UsageError(f"{function}() got an unknown option '{keyword}'", fix=hint)
        long, takes_value, repeatable = table[keyword]
        if value is None:
            continue
        if not takes_value:
            if not isinstance(value, bool):
                raise UsageError(
                    f"{keyword} is a switch, not a {type(value).__name__}",
                    fix=f"pass {keyword}=True or leave it out",
                )
            if value:
                argv.append(f"--{long}")
            continue
        if isinstance(value, Mapping) and repeatable:
            values: List[Any] = [f"{old}={new}" for old, new in value.items()]
        elif repeatable and isinstance(value, (list, tuple, set, frozenset)):
            values = list(value)
        else:
            values = [value]
        for item in values:
            argv += [f"--{long}", _option_text(keyword, item)]
    return argv


def _option_text(keyword: str, value: Any) -> str:
    if isinstance(value, bool):
        raise UsageError(
            f"{keyword} takes a value, not {value}",
            fix=f"see help(voucher_import.prepare) for {keyword}",
        )
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    return str(value)
