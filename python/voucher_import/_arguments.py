"""Python arguments as the engine takes them: paths or tables, files or values (codes, rule
texts, JSON documents), and keyword arguments as the command line's options, parsed there by
the command line's own definitions."""

from __future__ import annotations

import difflib
import json
import os
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

import pyarrow as pa

from ._arrow import source_data
from .errors import InputError, UsageError


def is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def sources(source: Any) -> Tuple[List[str], List[Tuple[str, Any]], List[pa.Schema]]:
    """Paths, or (name, data) pairs of tables with the tables' schemas."""
    if is_path(source):
        return [os.fspath(source)], [], []
    if isinstance(source, Mapping):
        named = [(str(name), table) for name, table in source.items()]
    elif isinstance(source, (list, tuple)):
        if not source:
            raise UsageError("prepare() was given an empty list", fix="pass a path or a table")
        if all(is_path(item) for item in source):
            return [os.fspath(item) for item in source], [], []
        if any(is_path(item) for item in source):
            raise UsageError(
                "prepare() was given both paths and tables",
                fix="prepare files and tables in separate calls, or read the files into tables",
            )
        named = [(f"table {at}", table) for at, table in enumerate(source, start=1)]
    else:
        named = [("table", source)]
    tables: List[Tuple[str, Any]] = []
    schemas: List[pa.Schema] = []
    for name, table in named:
        data, schema = source_data(table, name)
        tables.append((name, data))
        schemas.append(schema)
    return [], tables, schemas


def dict_or_file(value: Any, keyword: str, what: str, argv: List[str]) -> Optional[str]:
    """A JSON document given as a dict (its text, for the engine) or as a file (an option added
    to `argv`)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return json.dumps(dict(value))
    if is_path(value):
        argv += ["--" + keyword.replace("_", "-"), os.fspath(value)]
        return None
    raise UsageError(
        f"{keyword} is a {type(value).__name__}",
        fix=f"pass {what} as a dict, or the path of its JSON file",
    )


def strings(value: Any, what: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(item) for item in value]
    raise UsageError(f"{what} is a {type(value).__name__}", fix="pass a string or a list of them")


def rules(rules: Any) -> Tuple[List[str], List[str]]:
    """Rule files and rule texts: a string with a line break is a text."""
    if rules is None:
        return [], []
    items = [rules] if is_path(rules) else list(rules)
    files: List[str] = []
    texts: List[str] = []
    for item in items:
        if isinstance(item, str) and ("\n" in item or "\r" in item):
            texts.append(item)
        elif is_path(item):
            files.append(os.fspath(item))
        else:
            raise UsageError(
                f"a rule is a {type(item).__name__}",
                fix="pass the path of a rule file or the rule's text",
            )
    return files, texts


#: File name endings that say a string of `existing` is meant as a file.
_FILE_ENDINGS = (".csv", ".tsv", ".txt", ".gz", ".zst", ".parquet")


def existing(existing: Any) -> Tuple[List[str], List[str]]:
    """Files of existing codes, and codes given as values."""
    if existing is None:
        return [], []
    if isinstance(existing, str) and not os.path.exists(existing):
        raise InputError(
            f"existing='{existing}': no such file of existing codes",
            kind="input",
            path=existing,
            fix=f"check the path; to pass codes, give a list: existing=['{existing}']",
        )
    if is_path(existing):
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
    return [], [str(code) for code in items if not is_missing(code)]


def is_missing(value: Any) -> bool:
    """None, NaN or pandas' NA: an empty cell of a column of codes, not a code."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def options_argv(
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
            argv += [f"--{long}", option_text(keyword, item)]
    return argv


def option_text(keyword: str, value: Any) -> str:
    if isinstance(value, bool):
        raise UsageError(
            f"{keyword} takes a value, not {value}",
            fix=f"see help(voucher_import.prepare) for {keyword}",
        )
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    return str(value)
