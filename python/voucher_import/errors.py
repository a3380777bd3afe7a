"""The errors ``voucher_import`` raises: one class per stable kind (the ``kind`` that
``voucher-import --json`` prints), all of them ``VoucherImportError``.

Findings about data are not errors: a rejected row is a row of ``Result.rejected``. An error
means the run could not be done at all (a file that cannot be read, a header with problems, a
rule that does not compile, an option that makes no sense) and nothing was written.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type


class VoucherImportError(Exception):
    """A run that could not be done; nothing was written.

    Attributes:
        kind: the stable kind (``input``, ``header``, ``rule``, ``usage``, ...).
        message: what went wrong, without the fix.
        path: the file (or folder, or rule text) it is about, when there is one.
        line: the line of that file, when known.
        column: the column (1-based), when known.
        fix: how to fix it.
        problems: for a header error, every problem (dicts of path, message, fix, option).
    """

    kind: str = "error"

    def __init__(
        self,
        message: str,
        *,
        kind: Optional[str] = None,
        path: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
        fix: Optional[str] = None,
        problems: Optional[List[Dict[str, Any]]] = None,
        text: Optional[str] = None,
    ) -> None:
        super().__init__(text or message)
        if kind is not None:
            self.kind = kind
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.fix = fix
        self.problems = problems or []

    def _fields(self) -> Dict[str, Any]:
        return dict(
            kind=self.kind,
            path=self.path,
            line=self.line,
            column=self.column,
            fix=self.fix,
            problems=self.problems,
            text=super().__str__(),
        )

    def __reduce__(self) -> Any:
        # Whole through pickle (multiprocessing, task runners): every field, not only args.
        return (_rebuild, (type(self), self.message, self._fields()))

    def __str__(self) -> str:
        text = super().__str__()
        if self.fix and self.fix not in text:
            text = f"{text}\n  fix: {self.fix}"
        return text


class UploadError(VoucherImportError):
    """Talking to Voucherify failed in a way a retry does not fix."""

    kind = "upload"


class RunInterruptedError(VoucherImportError):
    """The run was asked to stop; nothing was written. (Ctrl-C raises KeyboardInterrupt.)"""

    kind = "interrupted"


class IoError(VoucherImportError):
    """Reading or writing a file failed."""

    kind = "io"


class InputError(VoucherImportError):
    """An input file (or table) cannot be imported as a whole."""

    kind = "input"


class HeaderError(VoucherImportError):
    """Input headers have problems: ``problems`` lists every one with its fix."""

    kind = "header"


class CsvError(VoucherImportError):
    """A record could not be read for a reason that is not about the record itself."""

    kind = "csv"


class RuleError(VoucherImportError):
    """A rule (a file or a text) is not in the rule format, or its SQL does not compile."""

    kind = "rule"


class RuleEvaluationError(VoucherImportError):
    """The rules could not be evaluated (DataFusion or Arrow failed)."""

    kind = "rule_evaluation"


class UsageError(VoucherImportError, ValueError):
    """An argument or an option value that makes no sense."""

    kind = "usage"


class OutputError(VoucherImportError):
    """The output folder cannot be used (it holds files, or an input)."""

    kind = "output"


class ResourcesError(VoucherImportError):
    """The machine is short of threads or memory."""

    kind = "resources"


class InternalError(VoucherImportError):
    """The run's own bookkeeping does not add up: a bug, please report it."""

    kind = "internal"


class ExitPolicyError(VoucherImportError):
    """The run went through, but more rows were rejected than ``max_rejected`` allows (or a
    row was warned of, with ``fail_on_warnings``): what makes the command line exit 1.
    ``result`` is the run's ``Result`` (and the folder was written, with ``out``)."""

    kind = "policy"

    def __init__(self, message: str, *, result: Any = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.result = result

    def _fields(self) -> Dict[str, Any]:
        return dict(super()._fields(), result=self.result)


def _rebuild(cls: Type[VoucherImportError], message: str, fields: Dict[str, Any]) -> Any:
    return cls(message, **fields)


#: The class of each kind.
ERROR_CLASSES: Dict[str, Type[VoucherImportError]] = {
    cls.kind: cls
    for cls in (
        UploadError,
        RunInterruptedError,
        IoError,
        InputError,
        HeaderError,
        CsvError,
        RuleError,
        RuleEvaluationError,
        UsageError,
        OutputError,
        ResourcesError,
        InternalError,
    )
}


#: An option as the command line spells it, and the value name after it when there is one
#: (``--dates-in ZONE``, ``--canary-rows <N>``, ``--amount-unit=major``).
_OPTION = re.compile(r"--([a-z][a-z0-9-]*)(?:([ =])(<[A-Z][A-Z0-9_]*>|[A-Z][A-Z0-9_]*\b|[a-z0-9][a-z0-9.%-]*))?")

#: The options of a function: (keyword, long option, takes a value, repeatable, value names).
Options = Sequence[Tuple[str, str, bool, bool, List[str]]]


def keyword_spelling(text: Optional[str], options: Optional[Options]) -> Optional[str]:
    """``text`` with the options of the command line written as the keyword arguments of the
    function that was called: ``--force`` reads ``force=True``, ``--dates-in ZONE``
    ``dates_in=ZONE``, ``--amount-unit=major`` ``amount_unit='major'``, ``--out folder``
    ``out folder``. Options the function does not take are left as written."""
    if not text or not options:
        return text
    table = {long: (keyword, takes_value) for keyword, long, takes_value, _, _ in options}

    def written(match: "re.Match[str]") -> str:
        entry = table.get(match.group(1))
        if entry is None:
            return match.group(0)
        keyword, takes_value = entry
        between, value = match.group(2), match.group(3)
        rest = match.group(0)[len("--" + match.group(1)) :]
        if not takes_value:
            return f"{keyword}=True{rest}"
        if value is not None and (value.startswith("<") or value.isupper()):
            return f"{keyword}={value.strip('<>')}"
        if value is not None and between == "=":
            return f"{keyword}={value!r}"
        return f"{keyword}{rest}"

    return _OPTION.sub(written, text)


def from_native(report_json: str, text: str, options: Optional[Options] = None) -> VoucherImportError:
    """The engine's error report as the exception of its kind, every option in it spelled as
    the keyword argument of the function called (``options``, its option table)."""
    report = json.loads(report_json)
    kind = report.get("kind", "internal")
    cls = ERROR_CLASSES.get(kind, VoucherImportError)
    problems = report.get("problems")
    if problems and options:
        problems = [
            {
                key: keyword_spelling(value, options) if key in ("message", "fix") else value
                for key, value in problem.items()
            }
            for problem in problems
        ]
    return cls(
        keyword_spelling(report.get("message", text), options) or "",
        kind=kind,
        path=report.get("path"),
        line=report.get("line"),
        column=report.get("column"),
        fix=keyword_spelling(report.get("fix"), options),
        problems=problems,
        text=keyword_spelling(text, options),
    )
