//! `voucher-import import`: from input files to codes in the campaign in one command. It reads
//! the campaign, its metadata schema and the codes already in the project (as `prepare
//! --project-campaign` does), prepares the folder, then uploads it with the canary and the
//! read-back (as `upload` does). Run again on the same `--out`, it resumes the upload.

use std::path::PathBuf;

use clap::{Arg, ArgMatches, Args, FromArgMatches};

use super::inputs::ImportArgs;
use super::upload::UploadRunArgs;
use crate::folder::STATE_FILE;
use crate::upload::{self, UploadOutcome, UploadProgress};
use crate::{Cancel, FolderSink, NoProgress, Result, Summary};

/// Import voucher files into a Voucherify campaign: read the project, prepare, upload, verify.
#[derive(Debug, Clone)]
pub struct ImportRunArgs {
    pub import: ImportArgs,
    /// The campaign: its id (camp_...) or its name.
    pub campaign: String,
    /// The folder prepared and uploaded from.
    pub out: PathBuf,
    /// Replace an earlier prepared folder that was never uploaded.
    pub force: bool,
    pub run: UploadRunArgs,
}

const CAMPAIGN: &str = "import_campaign";
const OUT: &str = "import_out";
const FORCE: &str = "import_force";

impl Args for ImportRunArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        // `prepare`'s options, but --campaign is the project's campaign (as for `upload`):
        // the file form is not taken here, and the project is always read.
        let cmd = ImportArgs::augment_args(cmd)
            .mut_arg("campaign", |a| a.long("campaign-file").hide(true))
            .mut_arg("campaign_type", |a| {
                a.hide(true).required_unless_present_any([CAMPAIGN])
            })
            .mut_arg("project_campaign", |a| a.hide(true))
            .mut_arg("project_snapshot", |a| a.hide(true))
            .arg(
                Arg::new(CAMPAIGN)
                    .long("campaign")
                    .value_name("ID_OR_NAME")
                    .required(true)
                    .conflicts_with_all(["campaign", "campaign_type", "project_campaign", "project_snapshot"])
                    .help("The campaign to import into: its id (camp_...) or its name; its type, the codes it holds, the voucher metadata schema and the codes already in the project are read from Voucherify")
                    .help_heading("Campaign"),
            )
            .arg(
                Arg::new(OUT)
                    .long("out")
                    .short('o')
                    .value_name("DIR")
                    .required(true)
                    .value_parser(clap::value_parser!(PathBuf))
                    .help("The folder to prepare and upload from (new or empty; run again on it to resume the upload)")
                    .help_heading("Output"),
            )
            .arg(
                Arg::new(FORCE)
                    .long("force")
                    .action(clap::ArgAction::SetTrue)
                    .help("Replace an earlier prepared folder that was never uploaded")
                    .help_heading("Output"),
            );
        UploadRunArgs::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for ImportRunArgs {
    fn from_arg_matches(matches: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        Ok(ImportRunArgs {
            import: ImportArgs::from_arg_matches(matches)?,
            campaign: matches
                .get_one::<String>(CAMPAIGN)
                .cloned()
                .unwrap_or_default(),
            out: matches.get_one::<PathBuf>(OUT).cloned().unwrap_or_default(),
            force: matches.get_flag(FORCE),
            run: UploadRunArgs::from_arg_matches(matches)?,
        })
    }

    fn update_from_arg_matches(
        &mut self,
        matches: &ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// What an import did: the preparation (none when it resumed an upload) and the upload.
pub struct Imported {
    pub prepared: Option<Summary>,
    pub uploaded: UploadOutcome,
}

/// Runs `import`: prepares `--out` from the inputs and the project (unless an upload of it
/// was started: then it resumes), then uploads it.
pub fn run(args: ImportRunArgs, cancel: Cancel, progress: &dyn UploadProgress) -> Result<Imported> {
    let ImportRunArgs {
        mut import,
        campaign,
        out,
        force,
        run,
    } = args;
    let connection = import.connection.clone();
    let prepared = if out.join(STATE_FILE).exists() {
        progress.warning(&format!(
            "{} was prepared and its upload started: the upload resumes (the inputs are not read again)",
            out.display()
        ));
        None
    } else {
        import.project_campaign = Some(campaign.clone());
        let resolved = import.into_import().cancel(cancel.clone()).resolve()?;
        let mut sink = FolderSink::new(&out).force(force);
        Some(resolved.run(&NoProgress, &mut sink)?)
    };
    let uploaded = upload::run(
        &run.into_options(out, campaign, &connection, cancel),
        progress,
    )?;
    Ok(Imported { prepared, uploaded })
}
