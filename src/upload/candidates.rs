//! The jobs an unconfirmed batch may have created: Voucherify's job list names no campaign or
//! file, so every campaign CSV import job created since the POST began (with the clocks'
//! slack) is a candidate, but those of other batches and those found not to be its own. The
//! list is paged back in time by the oldest creation time seen, to the millisecond, for as long
//! as a page is full, and a listing cut short says so.

use super::batch::Run;
use super::client::encode_segment;
use super::state::{BatchStatus, Candidate};
use super::verdict;
use crate::error::{Error, Result};

/// How far before a POST (by the local clock) an import job may have been created (by
/// Voucherify's) and still be its: the two clocks may differ.
const CLOCK_SLACK_SECONDS: i64 = 120;
/// Pages of `GET /v1/async-actions` read when looking for candidates (100 jobs a page).
const CANDIDATE_PAGES: usize = 20;
/// Jobs asked for per page of `GET /v1/async-actions` (the most Voucherify gives).
const JOBS_PER_PAGE: usize = 100;

impl Run<'_> {
    /// The POST may have arrived: record why, and the jobs that may be its.
    pub(super) fn unconfirmed(&self, index: usize, why: String) -> Result<()> {
        // Recorded before the (slower) look at the job list, which a stop may cut short.
        {
            let mut state = self.state.lock().expect("state lock");
            let batch = &mut state.batches[index];
            batch.status = BatchStatus::Unconfirmed;
            batch.reason = Some(why);
            self.journal
                .lock()
                .expect("journal lock")
                .checkpoint(&mut state)?;
        }
        self.find_candidates(index)
    }

    /// Looks (again) for the jobs an unconfirmed batch may have created, and records them:
    /// every job but those of other batches and those found not to be its own.
    pub(super) fn find_candidates(&self, index: usize) -> Result<()> {
        let posted_at = self.snapshot(index).posted_at;
        let listing = self.candidates(posted_at.as_deref())?;
        let taken: Vec<String> = {
            let state = self.state.lock().expect("state lock");
            state
                .batches
                .iter()
                .filter_map(|b| b.async_action_id.clone())
                .collect()
        };
        self.update(index, |b| {
            let mut found = listing.found;
            found.retain(|c| !taken.contains(&c.id) && !b.not_its_jobs.contains(&c.id));
            b.candidates_error = listing.error;
            b.candidates_incomplete = listing.incomplete;
            b.candidates = found;
        })?;
        Ok(())
    }

    /// The campaign CSV import jobs created since `posted_at` (all listed ones when it is not
    /// known), why they could not be listed, and whether the listing stopped short. Pages go
    /// back in time by the oldest creation time seen (to the millisecond) for as long as a page
    /// is full or says it has more, whether or not the answer has `has_more`. Fails only when
    /// interrupted.
    fn candidates(&self, posted_at: Option<&str>) -> Result<Listing> {
        let since_ms = posted_at
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis() - CLOCK_SLACK_SECONDS * 1000)
            .unwrap_or(i64::MIN);
        let mut listing = Listing::default();
        let mut end_ms: Option<i64> = None;
        for _ in 0..CANDIDATE_PAGES {
            let mut path = format!("/v1/async-actions?limit={JOBS_PER_PAGE}");
            if let Some(end) = end_ms.and_then(chrono::DateTime::from_timestamp_millis) {
                let end = end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                path.push_str(&format!("&end_date={}", encode_segment(&end)));
            }
            let answer = match self.client.get(&path) {
                Ok(answer) => answer,
                Err(Error::Interrupted) => return Err(Error::Interrupted),
                Err(e) => {
                    listing.error = Some(e.to_string());
                    return Ok(listing);
                }
            };
            let page = verdict::import_jobs_since(answer.json.as_ref(), since_ms);
            let before = listing.found.len();
            for candidate in page.found {
                if !listing.found.iter().any(|c| c.id == candidate.id) {
                    listing.found.push(candidate);
                }
            }
            let full = page.listed >= JOBS_PER_PAGE;
            let more = page.has_more == Some(true) || full;
            let Some(oldest) = page.oldest_ms else {
                return Ok(listing);
            };
            if !more || oldest < since_ms {
                return Ok(listing);
            }
            // The next page ends just after the oldest job seen, so that jobs created in the
            // same millisecond are listed again rather than lost (duplicates are dropped).
            let next = oldest + 1;
            if end_ms == Some(next) && listing.found.len() == before {
                listing.incomplete = Some(format!(
                    "more than {JOBS_PER_PAGE} jobs were created in the millisecond {}: the listing cannot page past them",
                    chrono::DateTime::from_timestamp_millis(oldest)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                        .unwrap_or_default()
                ));
                return Ok(listing);
            }
            end_ms = Some(next);
        }
        listing.incomplete = Some(format!(
            "the job listing was read {CANDIDATE_PAGES} pages deep ({} jobs) and goes on: older jobs may be this batch's too",
            CANDIDATE_PAGES * JOBS_PER_PAGE
        ));
        Ok(listing)
    }
}

/// The jobs listed for an unconfirmed batch.
#[derive(Debug, Default)]
struct Listing {
    found: Vec<Candidate>,
    /// Why the jobs could not be listed (all or in part).
    error: Option<String>,
    /// Why the listing stopped before it reached the POST's time.
    incomplete: Option<String>,
}
