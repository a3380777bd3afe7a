//! Where a run's judged rows go. A run calls its [`Sink`] three ways: [`Sink::begin`] before
//! anything is read, [`Sink::chunk`] with every chunk of judged rows in input order, and
//! [`Sink::finish`] with the run's [`Summary`]. Three sinks are ready:
//! - [`FolderSink`]: the prepared folder `prepare` writes (batches, rejected.csv,
//!   warnings.csv, origins.csv, updates.csv, summary.json, report.html), ready for `upload`;
//! - [`CheckSink`]: nothing written, every rejected row kept (what `check` reports);
//! - [`MemorySink`]: the accepted, rejected and warned rows as Arrow record batches.
//!
//! Two sinks make one as a pair: `(FolderSink::new(dir), MemorySink::new())` writes the folder
//! and keeps the tables.

mod arrow_rows;
mod check;
mod folder;
mod memory;

use std::path::PathBuf;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;

pub(crate) use arrow_rows::ArrowRowsBuilder;
pub use check::CheckSink;
pub use folder::FolderSink;
pub use memory::MemorySink;

use crate::error::Result;
use crate::folder::origins::OriginRun;
use crate::folder::summary::{RejectedEntry, Summary};
use crate::folder::updates::UpdateRow;
use crate::read::Record;
use crate::rules::RuleSet;
use crate::upload::ProjectSnapshot;
use crate::write::batches::BatchPiece;
use crate::write::rejected::RejectedWriter;

/// Receives a run's judged rows. Called from the run's in-order thread: a slow sink slows the
/// run, and an error from it stops the run (and is the run's error). A run that fails leaves
/// the sink as it was when the error came: a sink that writes files cleans up when dropped.
pub trait Sink: Send {
    /// The forms of the rows this sink reads, so that the run builds no other.
    fn wants(&self) -> Wants {
        Wants::default()
    }

    /// Called once, before any input is read: a sink refuses here what it cannot do (a folder
    /// that would destroy what the run reads). Gives notes for the summary (e.g. what it
    /// cleaned up first).
    fn begin(&mut self, run: &RunStart<'_>) -> Result<Vec<String>>;

    /// One chunk of judged rows, in input order; the last chunk of a run has no rows and
    /// closes the open batches.
    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> Result<()>;

    /// Called once, after the last chunk, with what the run did.
    fn finish(&mut self, summary: &Summary) -> Result<()>;

    /// Where to keep a document the run reads as it goes and was asked to keep (the codes
    /// of the project's export, `--keep-existing`: `project/existing-codes.csv`); None when
    /// this sink keeps no documents (the default).
    fn keep(&mut self, document: KeptDocument) -> Result<Option<Box<dyn std::io::Write + Send>>> {
        let _ = document;
        Ok(None)
    }
}

/// A document a run may keep beside its rows ([`Sink::keep`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptDocument {
    /// The file of the export of the codes already in the project, as downloaded.
    ExistingCodes,
}

/// The forms of the rows a sink reads besides the listed rows and the batch pieces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wants {
    /// The rows as Arrow record batches ([`JudgedChunk::arrow`]).
    pub arrow: bool,
}

/// What a sink knows of a run before anything is read.
#[derive(Debug)]
pub struct RunStart<'a> {
    pub(crate) reads: &'a [PathBuf],
    pub(crate) reads_stdin: bool,
    pub(crate) file_names: &'a [String],
    pub(crate) rules: &'a RuleSet,
    pub(crate) project: Option<&'a ProjectSnapshot>,
}

impl RunStart<'_> {
    /// Every file and folder the run reads (inputs as named and as found, --existing, --rules,
    /// --metadata-schema, --campaign): a sink writing files must replace none of them.
    pub fn reads(&self) -> &[PathBuf] {
        self.reads
    }

    /// Whether the run reads standard input.
    pub fn reads_stdin(&self) -> bool {
        self.reads_stdin
    }

    /// The inputs' names, as listed rows and the summary name them.
    pub fn file_names(&self) -> &[String] {
        self.file_names
    }

    /// The rules in force, in the order findings are listed.
    pub fn rules(&self) -> &RuleSet {
        self.rules
    }

    /// What was read from the user's project, when the campaign came from it.
    pub fn project(&self) -> Option<&ProjectSnapshot> {
        self.project
    }
}

/// One chunk of judged rows: the rows listed in the reports, what the batch plan made of the
/// accepted ones, and (when the sink wants them) every row in Arrow form.
#[derive(Debug)]
pub struct JudgedChunk<'a> {
    pub(crate) report_columns: &'a [String],
    pub(crate) rejected: &'a [ListedRow<'a>],
    pub(crate) warned: &'a [ListedRow<'a>],
    pub(crate) batch_pieces: &'a [BatchPiece],
    pub(crate) origins: &'a [OriginRun],
    pub(crate) updates: &'a [UpdateRow],
    pub(crate) arrow: Option<&'a ArrowRows>,
}

impl<'a> JudgedChunk<'a> {
    /// The input columns a listed row's fields go under (the union of the inputs' headers).
    pub fn report_columns(&self) -> &[String] {
        self.report_columns
    }

    /// The rows rejected, with their reasons, in input order.
    pub fn rejected(&self) -> &[ListedRow<'a>] {
        self.rejected
    }

    /// The accepted rows a `warn` rule flagged, in input order.
    pub fn warned(&self) -> &[ListedRow<'a>] {
        self.warned
    }

    /// The batch files' bytes made with this chunk, in order ([`BatchPiece`]).
    pub fn batch_pieces(&self) -> &[BatchPiece] {
        self.batch_pieces
    }

    /// Where the batch rows completed with this chunk come from (runs of rows; a run that
    /// may still grow comes with a later chunk).
    pub fn origins(&self) -> &[OriginRun] {
        self.origins
    }

    /// The accepted rows that update a code already in the project.
    pub fn updates(&self) -> &[UpdateRow] {
        self.updates
    }

    /// The chunk's rows as Arrow record batches, for a sink that wants them.
    pub fn arrow(&self) -> Option<&ArrowRows> {
        self.arrow
    }
}

/// A row listed in a report (rejected or warned): where it is, which rules found what.
#[derive(Debug)]
pub struct ListedRow<'a> {
    pub(crate) file_name: &'a str,
    pub(crate) record: &'a Record,
    /// Where the record's field `i` goes among the report columns (None: nowhere).
    pub(crate) original_columns: &'a [Option<usize>],
    /// The record comes from a rejected.csv given back (its cells are spreadsheet-safe).
    pub(crate) from_report: bool,
    pub(crate) rules: Vec<String>,
    pub(crate) reason: String,
}

impl ListedRow<'_> {
    /// The input's name.
    pub fn file(&self) -> &str {
        self.file_name
    }

    /// The data row (1 = the first after the header).
    pub fn row(&self) -> u64 {
        self.record.row
    }

    /// The line the record starts on (0 where the format has none).
    pub fn line(&self) -> u64 {
        self.record.line
    }

    /// The rules that found something, in rule order.
    pub fn rules(&self) -> &[String] {
        &self.rules
    }

    /// Every rule's reason, joined by `; `.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Writes the row into a report (rejected.csv, warnings.csv, or the examples alone).
    pub(crate) fn write_into(&self, report: &mut RejectedWriter) -> Result<()> {
        report.write(
            self.file_name,
            self.record,
            self.original_columns,
            self.from_report,
            &self.rules,
            &self.reason,
        )
    }

    /// The row as `check` reports it.
    pub fn entry(&self) -> RejectedEntry {
        RejectedEntry {
            file: self.file_name.to_owned(),
            row: self.record.row,
            line: self.record.line,
            rules: self.rules.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// A chunk's rows as Arrow record batches (see [`crate::Import::run_arrow`] for the layouts).
#[derive(Debug, Clone)]
pub struct ArrowRows {
    /// The accepted rows in the import layout of their column group; None when none.
    pub accepted: Option<RecordBatch>,
    /// The rejected rows in the report layout; None when none.
    pub rejected: Option<RecordBatch>,
    /// The warned rows in the report layout; None when none.
    pub warned: Option<RecordBatch>,
    /// The report layout's schema (also when the chunk has no such rows).
    pub report_schema: SchemaRef,
}

/// Two sinks as one: each is called in turn, the first one first.
impl<A: Sink, B: Sink> Sink for (A, B) {
    fn wants(&self) -> Wants {
        Wants {
            arrow: self.0.wants().arrow || self.1.wants().arrow,
        }
    }

    fn begin(&mut self, run: &RunStart<'_>) -> Result<Vec<String>> {
        let mut notes = self.0.begin(run)?;
        notes.extend(self.1.begin(run)?);
        Ok(notes)
    }

    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> Result<()> {
        self.0.chunk(chunk)?;
        self.1.chunk(chunk)
    }

    fn finish(&mut self, summary: &Summary) -> Result<()> {
        self.0.finish(summary)?;
        self.1.finish(summary)
    }

    /// Kept by the first sink that keeps documents.
    fn keep(&mut self, document: KeptDocument) -> Result<Option<Box<dyn std::io::Write + Send>>> {
        match self.0.keep(document)? {
            Some(kept) => Ok(Some(kept)),
            None => self.1.keep(document),
        }
    }
}
