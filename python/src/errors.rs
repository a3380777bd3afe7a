//! Errors on their way to Python: every engine error becomes a `NativeError` whose first
//! argument is the error report as JSON (kind, message, path, line, column, fix) and whose
//! second is the full text; `voucher_import.errors` raises it as the class of its kind.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::PyErr;
use voucher_import::{ErrorKind, ErrorReport};

create_exception!(
    _native,
    NativeError,
    PyException,
    "An engine error, as (report JSON, text); raised to users as a VoucherImportError."
);

/// `report` raised as a `NativeError`, with `text` as its full message.
pub fn raise(report: &ErrorReport, text: String) -> PyErr {
    let json = serde_json::to_string(report).unwrap_or_else(|_| "{}".to_owned());
    NativeError::new_err((json, text))
}

/// An engine error as a `NativeError`.
pub fn from_engine(error: &voucher_import::Error) -> PyErr {
    raise(&error.report(), error.to_string())
}

/// A usage error: a value the caller gave that makes no sense.
pub fn usage(message: impl Into<String>, fix: impl Into<String>) -> PyErr {
    let report = ErrorReport {
        fix: Some(fix.into()),
        ..ErrorReport::new(ErrorKind::Usage, message)
    };
    let text = report.message.clone();
    raise(&report, text)
}

/// A failure of the binding itself (a thread that could not start or panicked): a bug.
pub fn internal(message: impl Into<String>) -> PyErr {
    let report = ErrorReport {
        fix: Some("please report it with the input that caused it".to_owned()),
        ..ErrorReport::new(ErrorKind::Internal, message)
    };
    let text = report.message.clone();
    raise(&report, text)
}
