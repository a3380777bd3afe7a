//! What `upload` prints on stderr: the plan before the first request, and the summary of the
//! outcome with each batch that needs attention and the command that settles it.

use std::io::{self, Write};

use crate::upload::{self, BatchStatus, UploadOutcome};

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The summary `upload` prints on stderr. `dir` is the prepared folder.
pub fn write_summary(w: &mut impl Write, outcome: &UploadOutcome, dir: &str) -> io::Result<()> {
    let total = outcome.batches.len() as u64;
    if outcome.dry_run {
        writeln!(
            w,
            "dry run: {} to campaign '{}', nothing sent",
            plural(total, "batch", "batches"),
            outcome.campaign
        )?;
        for batch in &outcome.batches {
            let note = match batch.status {
                BatchStatus::Pending | BatchStatus::Refused => "would be posted".to_owned(),
                BatchStatus::Posting | BatchStatus::Unconfirmed => {
                    "unconfirmed: needs --adopt BATCH=ACTION_ID or --repost-unconfirmed".to_owned()
                }
                BatchStatus::Done | BatchStatus::Failed => {
                    format!("already {}", batch.status.as_str())
                }
                _ if batch.adopted => format!(
                    "would be polled as job {}",
                    batch.async_action_id.as_deref().unwrap_or("?")
                ),
                _ => "would be polled (already posted)".to_owned(),
            };
            writeln!(w, "  {}  {:>8} rows  {note}", batch.path, batch.rows)?;
        }
        if let Some(why) = &outcome.halted {
            writeln!(w, "stopped   {why}")?;
        }
        return Ok(());
    }
    writeln!(
        w,
        "batches   {:>10}  done, {} failed (of {total}) in campaign '{}'",
        outcome.batches_done, outcome.batches_failed, outcome.campaign
    )?;
    writeln!(w, "imported  {:>10}  codes", outcome.codes_imported)?;
    match &outcome.failed_file {
        Some(file) => writeln!(
            w,
            "failed    {:>10}  codes at Voucherify -> {file}",
            outcome.codes_failed
        )?,
        None => writeln!(
            w,
            "failed    {:>10}  codes at Voucherify",
            outcome.codes_failed
        )?,
    }
    if outcome.codes_verified > 0 {
        let updates = match outcome.codes_verified_as_updates {
            0 => String::new(),
            n => format!(
                " ({} as updates: Active and Category only)",
                plural(n, "code", "codes")
            ),
        };
        match &outcome.verify_file {
            Some(file) => writeln!(
                w,
                "verified  {:>10}  codes read back{updates}: {} stored otherwise than sent -> {file}",
                outcome.codes_verified, outcome.codes_mismatched
            )?,
            None => writeln!(
                w,
                "verified  {:>10}  codes read back{updates}: all stored as sent",
                outcome.codes_verified
            )?,
        }
        for pattern in &outcome.patterns {
            writeln!(w, "pattern   {}", pattern.advice)?;
        }
    }
    for note in &outcome.notes {
        writeln!(w, "note      {note}")?;
    }
    if let Some(canary) = &outcome.canary {
        match &canary.reason {
            None => writeln!(w, "canary    {}: imported whole and as sent", canary.batch)?,
            Some(reason) => writeln!(w, "canary    {}: {reason}", canary.batch)?,
        }
    }
    if let Some(why) = &outcome.halted {
        writeln!(w, "stopped   {why}")?;
    }
    write_calls(w, outcome)?;
    for batch in &outcome.batches {
        write_batch_problem(w, batch, dir, &outcome.campaign)?;
    }
    writeln!(w, "state     {dir}/{}", crate::folder::STATE_FILE)?;
    Ok(())
}

/// The calls the run made, by kind, and Voucherify's remainder.
fn write_calls(w: &mut impl Write, outcome: &UploadOutcome) -> io::Result<()> {
    let calls = &outcome.api_calls;
    let remaining = match &outcome.rate_limit {
        Some(limit) => format!(
            "; Voucherify's X-Rate-Limit-Remaining {}{}",
            limit.remaining.map_or("?".to_owned(), |r| r.to_string()),
            limit
                .kind
                .as_deref()
                .map(|k| format!(" ({k})"))
                .unwrap_or_default()
        ),
        None => String::new(),
    };
    writeln!(
        w,
        "calls     {:>10}  this run: {} POST, {} poll, {} job listing, {} read-back ({} on this folder in all){remaining}",
        calls.total(),
        calls.post,
        calls.poll,
        calls.list,
        calls.verify,
        outcome.api_calls_total.total()
    )
}

/// The plan `upload` prints before its first request.
pub fn write_plan(w: &mut impl Write, plan: &upload::CallPlan) -> io::Result<()> {
    writeln!(
        w,
        "plan      {} POST, about {} polls, {} read-back GETs: about {} API calls (read-back budget {}, --api-budget)",
        plan.posts, plan.polls, plan.verify, plan.total, plan.budget
    )
}

/// What is wrong with one batch, if anything, and what to do about it.
fn write_batch_problem(
    w: &mut impl Write,
    batch: &upload::BatchState,
    dir: &str,
    campaign: &str,
) -> io::Result<()> {
    let name = batch.file_name();
    let reason = batch.reason.as_deref().unwrap_or("");
    match batch.status {
        BatchStatus::Unconfirmed | BatchStatus::Posting => {
            writeln!(w, "unconfirmed  {name}: {reason}")?;
            writeln!(
                w,
                "  it may be queued at Voucherify already, so it was not posted again"
            )?;
            match (&batch.candidates_error, batch.candidates.is_empty()) {
                (Some(error), _) => writeln!(w, "  the import jobs could not be listed: {error}")?,
                (None, true) => writeln!(
                    w,
                    "  no campaign CSV import job was created since {}",
                    batch.posted_at.as_deref().unwrap_or("the POST")
                )?,
                (None, false) => {
                    writeln!(
                        w,
                        "  import jobs created since the POST began (any may be this batch's):"
                    )?;
                    for c in &batch.candidates {
                        writeln!(
                            w,
                            "    {}  {}  created {}",
                            c.id,
                            c.status.as_deref().unwrap_or("?"),
                            c.created_at.as_deref().unwrap_or("?")
                        )?;
                    }
                }
            }
            if let Some(why) = &batch.candidates_incomplete {
                writeln!(w, "  the job listing is incomplete: {why}")?;
            }
            let example = batch
                .candidates
                .first()
                .map(|c| c.id.as_str())
                .unwrap_or("ACTION_ID");
            writeln!(
                w,
                "  settle it: voucher-import upload {dir} --campaign '{campaign}' --adopt {name}={example}"
            )?;
            writeln!(
                w,
                "         or, after checking the campaign holds none of its codes: --repost-unconfirmed"
            )?;
        }
        BatchStatus::Refused => writeln!(
            w,
            "refused      {name}: {reason} (the next run posts it again)"
        )?,
        BatchStatus::TimedOut => writeln!(w, "timed out    {name}: {reason}")?,
        BatchStatus::Pending if !reason.is_empty() => writeln!(w, "not posted   {name}: {reason}")?,
        BatchStatus::Done | BatchStatus::Failed => {
            if !batch.failed_not_in_batch.is_empty() {
                writeln!(
                    w,
                    "inconsistent {name}: Voucherify listed {} failed code(s) the batch never sent (first: {}); not counted as the batch's rows",
                    batch.failed_not_in_batch.len(),
                    batch.failed_not_in_batch[0].code.as_deref().unwrap_or("?")
                )?;
            }
            if let Some(v) = batch.verification.as_ref().filter(|v| !v.complete) {
                writeln!(
                    w,
                    "unverified   {name}: {} of {} codes read back{}",
                    v.checked,
                    v.planned,
                    v.incomplete
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )?;
            }
            if batch.counts == Some(upload::Counts::Missing) {
                writeln!(
                    w,
                    "no verdict   {name}: Voucherify's result says nothing of how many went in (no counts, no failed rows, no message with a number): check the campaign"
                )?;
            } else if batch.rows_without_verdict > 0 {
                writeln!(
                    w,
                    "no verdict   {} of {name} got no verdict from Voucherify: neither imported nor listed as failed (check them in the campaign)",
                    plural(batch.rows_without_verdict, "row", "rows")
                )?;
            }
            if batch.counts == Some(upload::Counts::Inconsistent) {
                writeln!(
                    w,
                    "inconsistent {name}: Voucherify's counts (done {}, failed {}, {} listed) do not fit the {} sent; not believed: check the campaign",
                    batch.reported_done_count.map(|c| c.to_string()).unwrap_or("?".into()),
                    batch.reported_failed_count.map(|c| c.to_string()).unwrap_or("?".into()),
                    batch.failed_rows,
                    plural(batch.rows, "row", "rows")
                )?;
            }
            if batch.counts == Some(upload::Counts::Inferred) {
                writeln!(
                    w,
                    "inferred     {name}: Voucherify gave no complete counts; {} imported, {} failed are inferred from its message, failed rows and the rows sent",
                    batch.done_count.unwrap_or(0),
                    batch.failed_count.unwrap_or(0)
                )?;
            }
            if batch.status == BatchStatus::Failed {
                writeln!(
                    w,
                    "failed       {name}: the import job failed{}{}",
                    if batch.operation_status.as_deref() == Some("FAILED") {
                        " (operation_status FAILED)"
                    } else {
                        ""
                    },
                    batch
                        .message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}
