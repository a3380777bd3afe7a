"""The Rust engine (``voucher_import._native``); use :mod:`voucher_import`, which wraps it."""

from os import PathLike
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

__version__: str

class NativeError(Exception):
    """An engine error: ``args`` are (the error report as JSON, the full text)."""

# (keyword, long option, takes a value, repeatable, value names)
_Option = Tuple[str, str, bool, bool, List[str]]
# A table as one IPC stream, or (an empty IPC stream with the schema, one-batch IPC streams).
_SourceData = Union[bytes, Tuple[bytes, Iterator[bytes]]]

def cli(argv: Sequence[Union[str, PathLike[str]]]) -> int:
    """Runs the command line ``argv`` (the program's name first); gives its exit code."""

def prepare_options() -> List[_Option]:
    """The options ``prepare()`` takes as keyword arguments."""

def upload_options() -> List[_Option]:
    """The options ``upload()`` takes as keyword arguments."""

def prepare(
    options: Sequence[str],
    paths: Sequence[Union[str, PathLike[str]]],
    sources: Sequence[Tuple[str, _SourceData]],
    existing_codes: Sequence[str],
    rule_texts: Sequence[str],
    campaign_json: Optional[str],
    metadata_schema_json: Optional[str],
) -> Tuple[bytes, int, Optional[str], List[bytes], bytes, bytes]:
    """Runs ``prepare``: (summary JSON, exit code, policy failure, accepted IPC streams by
    column group, rejected IPC stream, warnings IPC stream)."""

def upload(arguments: Sequence[str]) -> Tuple[str, List[str]]:
    """Runs ``upload``: (the outcome as JSON, warnings said before sending)."""
