//! [`FolderSink`]: the prepared folder `prepare` writes and `upload` reads (and, for a run
//! whose campaign was read from the project, the snapshot of what was read: `project/`). Everything goes
//! into a staging folder beside the target, which takes the target's place only when the run
//! is complete: a run that fails leaves nothing behind.

use std::path::PathBuf;

use super::{JudgedChunk, KeptDocument, RunStart, Sink};
use crate::error::{Error, Result};
use crate::folder::origins::OriginRun;
use crate::folder::summary::Summary;
use crate::folder::updates::UpdateRow;
use crate::folder::{self as names, RAW_COLUMN};
use crate::rules::format::Severity;
use crate::rules::RuleSet;
use crate::upload::ProjectSnapshot;
use crate::write::batch_files::BatchFiles;
use crate::write::rejected::RejectedWriter;
use crate::write::StagedOutput;

/// Writes the prepared folder: the batches (`import/part-00001.csv`, ...), rejected.csv,
/// warnings.csv (when a rule warns), origins.csv, updates.csv (when rows update codes in the
/// project), summary.json and report.html.
#[derive(Debug)]
pub struct FolderSink {
    folder: PathBuf,
    force: bool,
    open: Option<OpenFolder>,
}

/// A run's folder while it is written.
#[derive(Debug)]
struct OpenFolder {
    /// Dropped before it is committed, it removes itself.
    staged: StagedOutput,
    file_names: Vec<String>,
    rules: RuleSet,
    writes_warnings: bool,
    batches: BatchFiles,
    /// rejected.csv and warnings.csv, made with the first chunk (which tells their columns).
    reports: Option<Reports>,
    origins: Vec<OriginRun>,
    updates: Vec<UpdateRow>,
    /// What was read from the project, kept as `project/`.
    project: Option<ProjectSnapshot>,
}

#[derive(Debug)]
struct Reports {
    rejected: RejectedWriter,
    warnings: Option<RejectedWriter>,
    /// report.html's field columns: the input columns, then `raw`.
    columns: Vec<String>,
}

impl FolderSink {
    /// A sink writing `folder`, which must be new or empty.
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        FolderSink {
            folder: folder.into(),
            force: false,
            open: None,
        }
    }

    /// Replaces a folder an earlier run of this tool wrote (`--force`): never one holding
    /// anything else, never one whose batches were uploaded.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// The folder the run writes.
    pub fn folder(&self) -> &std::path::Path {
        &self.folder
    }

    fn open(&mut self) -> Result<&mut OpenFolder> {
        self.open
            .as_mut()
            .ok_or_else(|| Error::Invariant("the folder sink was given rows before begin".into()))
    }
}

impl Sink for FolderSink {
    /// Refuses a folder that would destroy what the run reads or what this tool did not
    /// write, removes what runs that are gone left beside it, and stages the new folder.
    fn begin(&mut self, run: &RunStart<'_>) -> Result<Vec<String>> {
        crate::write::check_output_folder(&self.folder, self.force, run.reads())?;
        if run.reads_stdin() {
            crate::write::check_stdin_outside(&self.folder)?;
        }
        // A sink begun again starts over (the earlier staging folder goes).
        self.open = None;
        let staged = StagedOutput::create(&self.folder, self.force, run.reads())?;
        let notes = staged.removed_leftovers().to_vec();
        let batches = BatchFiles::new(staged.path())?;
        self.open = Some(OpenFolder {
            staged,
            file_names: run.file_names().to_vec(),
            rules: run.rules().clone(),
            writes_warnings: run
                .rules()
                .rules
                .iter()
                .any(|r| r.text.severity == Severity::Warn),
            batches,
            reports: None,
            origins: Vec::new(),
            updates: Vec::new(),
            project: run.project().cloned(),
        });
        Ok(notes)
    }

    fn chunk(&mut self, chunk: &JudgedChunk<'_>) -> Result<()> {
        let open = self.open()?;
        open.batches.write(chunk.batch_pieces())?;
        open.origins.extend_from_slice(chunk.origins());
        open.updates.extend_from_slice(chunk.updates());
        if open.reports.is_none() {
            let path = open.staged.path();
            let headers = chunk.report_columns();
            open.reports = Some(Reports {
                rejected: RejectedWriter::new(Some(&path.join(names::REJECTED_FILE)), headers)?,
                warnings: match open.writes_warnings {
                    true => Some(RejectedWriter::new(
                        Some(&path.join(names::WARNINGS_FILE)),
                        headers,
                    )?),
                    false => None,
                },
                columns: headers
                    .iter()
                    .cloned()
                    .chain([RAW_COLUMN.to_owned()])
                    .collect(),
            });
        }
        let reports = open.reports.as_mut().expect("made above");
        for row in chunk.rejected() {
            row.write_into(&mut reports.rejected)?;
        }
        if let Some(warnings) = &mut reports.warnings {
            for row in chunk.warned() {
                row.write_into(warnings)?;
            }
        }
        Ok(())
    }

    /// `project/existing-codes.csv` in the staging folder.
    fn keep(&mut self, document: KeptDocument) -> Result<Option<Box<dyn std::io::Write + Send>>> {
        let open = self.open()?;
        let KeptDocument::ExistingCodes = document;
        let dir = open.staged.path().join(names::PROJECT_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(crate::folder::project::EXISTING_CODES_FILE);
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Some(Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            file,
        ))))
    }

    /// Waits for every batch byte to be on disk, writes summary.json, origins.csv,
    /// updates.csv and report.html, and puts the folder in place at once.
    fn finish(&mut self, summary: &Summary) -> Result<()> {
        let Some(mut open) = self.open.take() else {
            return Err(Error::Invariant(
                "the folder sink was finished before begin".into(),
            ));
        };
        open.batches.finish()?;
        let reports = open.reports.take().ok_or_else(|| {
            Error::Invariant("the folder sink was finished without a chunk".into())
        })?;
        let examples = reports.rejected.finish()?;
        if let Some(warnings) = reports.warnings {
            warnings.finish()?;
        }
        let folder = open.staged.path();
        let path = folder.join(names::SUMMARY_FILE);
        let mut text = Vec::new();
        crate::folder::summary::write_json(&mut text, summary).map_err(|e| Error::io(&path, e))?;
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        open.origins.sort_by_key(|run| (run.batch, run.batch_row));
        crate::folder::origins::write(
            &folder.join(names::ORIGINS_FILE),
            &open.origins,
            &open.file_names,
            &summary.kept_columns,
        )?;
        if !open.updates.is_empty() {
            crate::folder::updates::write(folder, &open.updates)?;
        }
        if let Some(project) = &open.project {
            let read = summary.project.as_ref().unwrap_or(&project.read);
            project.write(&folder.join(names::PROJECT_DIR), read)?;
        }
        let path = folder.join(names::REPORT_FILE);
        let mut page = Vec::new();
        crate::report::html::write_html(
            &mut page,
            &crate::report::html::HtmlReport {
                summary,
                rules: &open.rules,
                examples: &examples,
                columns: &reports.columns,
            },
        )
        .map_err(|e| Error::io(&path, e))?;
        std::fs::write(&path, page).map_err(|e| Error::io(&path, e))?;
        open.staged.commit()
    }
}
