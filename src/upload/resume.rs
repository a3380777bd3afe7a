//! Resuming an upload: the recorded state checked against the folder and the options,
//! `--adopt` of an unconfirmed batch's job, and the candidate jobs a run found and took.

use super::*;

/// The recorded state, checked against the folder and the options.
pub(super) fn resumed(
    recorded: UploadState,
    options: &UploadOptions,
    prepared: &[prepared::PreparedBatch],
    progress: &dyn UploadProgress,
) -> Result<UploadState> {
    let state_path = options.dir.join(STATE_FILE);
    if recorded.campaign != options.campaign {
        return Err(Error::Upload(format!(
            "{} records an upload to campaign '{}', not '{}': one folder goes to one campaign",
            state_path.display(),
            recorded.campaign,
            options.campaign
        )));
    }
    if recorded.batches.len() != prepared.len() {
        return Err(Error::Upload(format!(
            "{} records {} batches, summary.json lists {}: the folder changed since it was uploaded; run prepare again for a new folder",
            state_path.display(),
            recorded.batches.len(),
            prepared.len()
        )));
    }
    for (batch, file) in recorded.batches.iter().zip(prepared) {
        if batch.path != file.path || !batch.sha256.eq_ignore_ascii_case(&file.sha256) {
            return Err(Error::Upload(format!(
                "{} changed since it was uploaded (upload.json records sha256 {}, the file has {}): it is not uploaded again",
                file.path,
                batch.sha256.chars().take(12).collect::<String>(),
                &file.sha256[..12]
            )));
        }
    }
    let mut state = recorded;
    if state.api_url != options.api.base_url {
        progress.warning(&format!(
            "{} was written by an upload to {}; this run talks to {}: the jobs it records are looked up there",
            state_path.display(),
            state.api_url,
            options.api.base_url
        ));
        state.api_url = options.api.base_url.clone();
    }
    Ok(state)
}

/// Applies `--adopt BATCH=ACTION_ID`: the named job becomes the unconfirmed batch's.
pub(super) fn adopt(state: &mut UploadState, adoptions: &[(String, String)]) -> Result<()> {
    for (name, id) in adoptions {
        let id = id.trim();
        if id.is_empty() || id.contains(['/', '?', '#']) || id.chars().any(char::is_whitespace) {
            return Err(Error::usage(
                format!("--adopt {name}={id}: '{id}' is not an async action id"),
                "give the id of a job from the batch's candidates (aa_...)",
            ));
        }
        let index = state
            .batches
            .iter()
            .enumerate()
            .position(|(i, b)| {
                b.path == *name || b.file_name() == name || name.parse::<usize>() == Ok(i + 1)
            })
            .ok_or_else(|| {
                Error::usage(
                    format!("--adopt {name}={id}: the folder has no batch '{name}'"),
                    format!(
                        "name a batch by its file name ({}) or number",
                        state
                            .batches
                            .first()
                            .map(|b| b.file_name())
                            .unwrap_or("part-00001.csv")
                    ),
                )
            })?;
        if let Some(other) = state
            .batches
            .iter()
            .enumerate()
            .find(|(i, b)| *i != index && b.async_action_id.as_deref() == Some(id))
        {
            return Err(Error::usage(
                format!(
                    "--adopt {name}={id}: {id} is already the job of {}",
                    other.1.path
                ),
                "one job imports one batch: pick another candidate",
            ));
        }
        let batch = &mut state.batches[index];
        match batch.status {
            BatchStatus::Unconfirmed | BatchStatus::Posting => {
                batch.clear_job();
                batch.async_action_id = Some(id.to_owned());
                batch.status = BatchStatus::Enqueued;
                batch.adopted = true;
            }
            _ if batch.async_action_id.as_deref() == Some(id) => {}
            status => {
                return Err(Error::usage(
                    format!(
                        "--adopt {name}={id}: {} is {}, not unconfirmed",
                        batch.path,
                        status.as_str()
                    ),
                    "--adopt is for batches whose POST got no answer (status unconfirmed in upload.json)",
                ))
            }
        }
    }
    Ok(())
}

/// With batches in flight at once, a job listed as a candidate may turn out to be another
/// batch's once that batch's answer arrives: it is no candidate any more.
pub(super) fn forget_taken_candidates(
    state: &mut UploadState,
    state_path: &std::path::Path,
) -> Result<()> {
    let taken: Vec<String> = state
        .batches
        .iter()
        .filter_map(|b| b.async_action_id.clone())
        .collect();
    let mut changed = false;
    for batch in &mut state.batches {
        let before = batch.candidates.len();
        batch.candidates.retain(|c| !taken.contains(&c.id));
        changed |= batch.candidates.len() != before;
    }
    if changed {
        state.save(state_path)?;
    }
    Ok(())
}

/// What the state holds, in a few words: "2 DONE, 1 unconfirmed, 3 pending".
pub(super) fn holdings(state: &UploadState) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for batch in &state.batches {
        let name = batch.status.as_str();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .iter()
        .map(|(name, count)| format!("{count} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}
