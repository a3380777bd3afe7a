//! Typed errors: everything that stops a run (exit code 2) and leaves no output behind.
//!
//! Findings about the data (a bad row) are never errors: they are rows of the rejected report.
//! An [`Error`] is about a whole file, the command line, a rule file, or the machine.

use std::io;
use std::path::PathBuf;

/// One thing wrong with a header: what, how to fix it, and the option that does (when one
/// does: `--rename '#3=region_2'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderProblem {
    /// What is wrong with the header.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// The option that fixes it, when one does.
    pub option: Option<String>,
}

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to Voucherify failed in a way a retry does not fix (credentials, campaign, a
    /// batch that changed); the message says what to do.
    #[error("{0}")]
    Upload(String),

    /// The run was asked to stop (Ctrl-C); nothing was written.
    #[error("interrupted: the run stopped and wrote nothing (the output folder is as it was)")]
    Interrupted,

    /// `upload` was asked to stop (Ctrl-C); `upload.json` says where each batch stands.
    #[error("interrupted: {state} holds where each batch stands ({holds}); run upload again to resume (no batch is posted twice)", state = state.display())]
    UploadInterrupted {
        /// The folder's `upload.json`.
        state: PathBuf,
        /// Where the batches stand, in words.
        holds: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}\n  fix: {}", io_fix(source))]
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// What the system said.
        source: io::Error,
    },

    /// An input file cannot be imported as a whole (its header, its encoding, its emptiness).
    #[error("{path}: {message}\n  fix: {fix}")]
    InputFile {
        /// The input file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
        /// How to fix it.
        fix: String,
    },

    /// Headers with several problems, every one listed with its fix, and the options that fix
    /// them all at once.
    #[error("{}", describe_header_problems(problems))]
    HeaderProblems {
        /// Each problem with the input whose header has it.
        problems: Vec<(PathBuf, HeaderProblem)>,
    },

    /// A record could not be read for a reason that is not about the record itself.
    #[error("{path}: line {line}: {message}\n  fix: correct that line of the file")]
    Csv {
        /// The input file.
        path: PathBuf,
        /// The line the record starts on.
        line: u64,
        /// What went wrong.
        message: String,
    },

    /// A rule file is not in the rule format or its SQL does not compile.
    #[error("{path}:{line}: {message}\n  fix: correct the rule file, or leave it out (or --disable-rule it) to run without it")]
    RuleFile {
        /// The rule file (or `sql/NAME.sql` for a built-in rule).
        path: String,
        /// The line of the rule file.
        line: usize,
        /// What is wrong there.
        message: String,
    },

    /// A command-line value that parsed but makes no sense (a campaign file that is not one).
    #[error("{message}\n  fix: {fix}")]
    Usage {
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },

    /// The output folder cannot be used.
    #[error("{path}: {message}\n  fix: {fix}")]
    Output {
        /// The output folder.
        path: PathBuf,
        /// Why it cannot be used.
        message: String,
        /// How to fix it.
        fix: String,
    },

    /// The run's own bookkeeping does not add up: a bug, reported instead of writing outputs.
    #[error("internal check failed: {0}\n  fix: this is a bug in voucher-import; please report it with the command line (nothing was written)")]
    Invariant(String),

    /// The rule engine met something it cannot evaluate (a condition that is not boolean).
    #[error("rule evaluation failed: {0}\n  fix: {RULE_EVALUATION_FIX}")]
    Engine(String),

    /// DataFusion failed while compiling or evaluating rules.
    #[error("rule evaluation failed: {0}\n  fix: {RULE_EVALUATION_FIX}")]
    DataFusion(#[from] datafusion::error::DataFusionError),

    /// Arrow failed while building or evaluating the rule table.
    #[error("rule evaluation failed: {0}\n  fix: {RULE_EVALUATION_FIX}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),

    /// A thread of the run could not be started.
    #[error("cannot start the {what}: {source}\n  fix: the machine is short of threads or memory; run again with fewer --threads, or when it is less busy")]
    Thread {
        /// Which thread (`the reader thread`, `2 worker threads`).
        what: String,
        #[source]
        /// What the system said.
        source: io::Error,
    },
}

/// Every header problem with its fix, then every option that fixes one, in one line (those of
/// several files naming one column `#N` differently are left to the user).
fn describe_header_problems(problems: &[(PathBuf, HeaderProblem)]) -> String {
    let files = {
        let mut paths: Vec<&PathBuf> = problems.iter().map(|(p, _)| p).collect();
        paths.dedup();
        paths.len()
    };
    let mut text = format!(
        "{} header problems in {} (all of them, so that one run after the fixes goes through):",
        problems.len(),
        if files == 1 {
            "1 file".to_owned()
        } else {
            format!("{files} files")
        }
    );
    for (path, problem) in problems {
        text.push_str(&format!(
            "\n  {}: {}\n    fix: {}",
            path.display(),
            problem.message,
            problem.fix
        ));
    }
    if let Some(fix) = fix_for_all(problems) {
        text.push_str(&format!("\n  fix: {fix}"));
    }
    text
}

/// "every fix at once: ..." with each option that fixes a problem once, in order; None when
/// no problem has one.
fn fix_for_all(problems: &[(PathBuf, HeaderProblem)]) -> Option<String> {
    let mut options: Vec<&str> = Vec::new();
    for option in problems.iter().filter_map(|(_, p)| p.option.as_deref()) {
        if !options.contains(&option) {
            options.push(option);
        }
    }
    (!options.is_empty()).then(|| format!("every fix at once: {}", options.join(" ")))
}

impl Error {
    /// The run stopped because it was asked to (Ctrl-C, SIGTERM).
    pub fn is_interruption(&self) -> bool {
        matches!(self, Error::Interrupted | Error::UploadInterrupted { .. })
    }

    /// A thread that could not be started (`what`: "reader thread").
    pub(crate) fn thread(what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let what = what.into();
        move |source| Error::Thread { what, source }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn input(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Error::InputFile {
            path: path.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// The error for header problems: one is an [`Error::InputFile`], several are listed.
    pub(crate) fn header_problems(mut problems: Vec<(PathBuf, HeaderProblem)>) -> Self {
        if problems.len() == 1 {
            let (path, problem) = problems.remove(0);
            return Error::InputFile {
                path,
                message: problem.message,
                fix: problem.fix,
            };
        }
        Error::HeaderProblems { problems }
    }

    /// A command-line value that parsed but makes no sense, with its fix.
    pub fn usage(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl From<voucher_import_read::ReadError> for Error {
    fn from(e: voucher_import_read::ReadError) -> Self {
        match e {
            voucher_import_read::ReadError::Io { path, source } => Error::Io { path, source },
            voucher_import_read::ReadError::File { path, message, fix } => {
                Error::InputFile { path, message, fix }
            }
        }
    }
}

/// What to do about an I/O error, by its kind.
fn io_fix(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::NotFound => "check the path (a typo, or a file that was moved?)",
        io::ErrorKind::PermissionDenied => "check the file's and its folder's permissions",
        io::ErrorKind::AlreadyExists => "choose another name, or remove what is there",
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "free some disk space, then run again"
        }
        io::ErrorKind::IsADirectory => "name a file, not a folder",
        io::ErrorKind::NotADirectory => "name a folder, not a file",
        io::ErrorKind::ReadOnlyFilesystem => "write to a folder on a writable disk",
        _ if e.raw_os_error() == Some(24) => {
            "too many files are open: raise the limit (ulimit -n) or pass fewer files at once"
        }
        _ => "check the path and the disk, then run again",
    }
}

/// A result whose error is an [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of error stopped a run: a stable name pipelines can branch on (`--json` prints it
/// as `error.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Talking to Voucherify failed in a way a retry does not fix.
    Upload,
    /// The run was asked to stop (Ctrl-C, SIGTERM, a cancellation handle).
    Interrupted,
    /// Reading or writing a file failed.
    Io,
    /// An input file cannot be imported as a whole.
    Input,
    /// Input headers have problems (every one listed, each with its fix).
    Header,
    /// A record could not be read for a reason that is not about the record itself.
    Csv,
    /// A rule file is not in the rule format, or its SQL does not compile.
    Rule,
    /// The rules could not be evaluated (DataFusion or Arrow failed).
    RuleEvaluation,
    /// A command-line value or a library setting that makes no sense.
    Usage,
    /// The output folder cannot be used.
    Output,
    /// The machine is short of threads or memory.
    Resources,
    /// The run's own bookkeeping does not add up: a bug.
    Internal,
}

impl ErrorKind {
    /// The kind's stable name (`input`, `header`, `rule_evaluation`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Upload => "upload",
            ErrorKind::Interrupted => "interrupted",
            ErrorKind::Io => "io",
            ErrorKind::Input => "input",
            ErrorKind::Header => "header",
            ErrorKind::Csv => "csv",
            ErrorKind::Rule => "rule",
            ErrorKind::RuleEvaluation => "rule_evaluation",
            ErrorKind::Usage => "usage",
            ErrorKind::Output => "output",
            ErrorKind::Resources => "resources",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An error as data, for `--json` and for callers that report errors themselves: its kind,
/// its message and fix apart, and where it is (file, line; `column` where one is known).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorReport {
    /// The kind (see [`ErrorKind`]).
    pub kind: ErrorKind,
    /// What went wrong, without the fix.
    pub message: String,
    /// The file (or rule file, or folder) it is about.
    pub path: Option<String>,
    /// The line of that file.
    pub line: Option<u64>,
    /// The column (1-based), where one is known.
    pub column: Option<u64>,
    /// How to fix it.
    pub fix: Option<String>,
    /// For a header error: every problem with its file and fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<HeaderProblemReport>,
}

impl ErrorReport {
    /// A report of `kind` with only its message; the other fields are filled where known.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ErrorReport {
            kind,
            message: message.into(),
            path: None,
            line: None,
            column: None,
            fix: None,
            problems: Vec::new(),
        }
    }
}

/// One header problem in an [`ErrorReport`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct HeaderProblemReport {
    /// The input whose header has it.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// The option that fixes it, when one does.
    pub option: Option<String>,
}

/// The fix line of the rule-evaluation errors.
const RULE_EVALUATION_FIX: &str =
    "check the rules' SQL (voucher-import rules lists them); --disable-rule NAME runs without one";

impl Error {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Upload(_) => ErrorKind::Upload,
            Error::Interrupted | Error::UploadInterrupted { .. } => ErrorKind::Interrupted,
            Error::Io { .. } => ErrorKind::Io,
            Error::InputFile { .. } => ErrorKind::Input,
            Error::HeaderProblems { .. } => ErrorKind::Header,
            Error::Csv { .. } => ErrorKind::Csv,
            Error::RuleFile { .. } => ErrorKind::Rule,
            Error::Usage { .. } => ErrorKind::Usage,
            Error::Output { .. } => ErrorKind::Output,
            Error::Invariant(_) => ErrorKind::Internal,
            Error::Engine(_) | Error::DataFusion(_) | Error::Arrow(_) => ErrorKind::RuleEvaluation,
            Error::Thread { .. } => ErrorKind::Resources,
        }
    }

    /// The error as data: kind, message and fix apart, and where.
    pub fn report(&self) -> ErrorReport {
        let shown = |p: &PathBuf| Some(p.display().to_string());
        let mut report = ErrorReport::new(self.kind(), self.to_string());
        match self {
            Error::Upload(message) => report.message = message.clone(),
            Error::Interrupted => {
                report.message = "the run stopped and wrote nothing".into();
                report.fix = Some("run it again; the output folder is as it was".into());
            }
            Error::UploadInterrupted { state, holds } => {
                report.message = format!("upload stopped; {holds}");
                report.path = shown(state);
                report.fix = Some("run upload again to resume (no batch is posted twice)".into());
            }
            Error::Io { path, source } => {
                report.message = source.to_string();
                report.path = shown(path);
                report.fix = Some(io_fix(source).to_owned());
            }
            Error::InputFile { path, message, fix } | Error::Output { path, message, fix } => {
                report.message = message.clone();
                report.path = shown(path);
                report.fix = Some(fix.clone());
            }
            Error::HeaderProblems { problems } => {
                report.path = problems.first().and_then(|(p, _)| shown(p));
                report.message = format!("{} header problems", problems.len());
                report.fix = fix_for_all(problems);
                report.problems = problems
                    .iter()
                    .map(|(path, p)| HeaderProblemReport {
                        path: path.display().to_string(),
                        message: p.message.clone(),
                        fix: p.fix.clone(),
                        option: p.option.clone(),
                    })
                    .collect();
            }
            Error::Csv {
                path,
                line,
                message,
            } => {
                report.message = message.clone();
                report.path = shown(path);
                report.line = Some(*line);
                report.fix = Some("correct that line of the file".into());
            }
            Error::RuleFile {
                path,
                line,
                message,
            } => {
                report.message = message.clone();
                report.path = Some(path.clone());
                report.line = Some(*line as u64);
                report.fix = Some(
                    "correct the rule file, or leave it out (or --disable-rule it) to run without it"
                        .into(),
                );
            }
            Error::Usage { message, fix } => {
                report.message = message.clone();
                report.fix = Some(fix.clone());
            }
            Error::Invariant(message) => {
                report.message = format!("internal check failed: {message}");
                report.fix = Some("this is a bug in voucher-import; please report it with the command line (nothing was written)".into());
            }
            Error::Engine(message) => {
                report.message = format!("rule evaluation failed: {message}");
                report.fix = Some(RULE_EVALUATION_FIX.into());
            }
            Error::DataFusion(e) => {
                report.message = format!("rule evaluation failed: {e}");
                report.fix = Some(RULE_EVALUATION_FIX.into());
            }
            Error::Arrow(e) => {
                report.message = format!("rule evaluation failed: {e}");
                report.fix = Some(RULE_EVALUATION_FIX.into());
            }
            Error::Thread { what, source } => {
                report.message = format!("cannot start the {what}: {source}");
                report.fix = Some("the machine is short of threads or memory; run again with fewer --threads, or when it is less busy".into());
            }
        }
        report
    }
}
