//! The project's API budget. Voucherify limits calls per plan (a Sandbox project: 100 an hour)
//! and blocks a project that goes over at once, so `upload` says what a run will spend before
//! it sends anything ([`CallPlan`]), refuses a read-back that would spend more than the user
//! allowed, counts every call it makes by kind ([`ApiCalls`]), and reads Voucherify's
//! `X-Rate-Limit-Remaining` on every answer ([`Meter`]): under the reserve, the read-back stops
//! and no new batch is posted, leaving the calls the project needs for its own traffic.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::client::Answer;
use super::compare::VerifyCount;
use super::state::{BatchStatus, UploadState};
use super::UploadOptions;
use crate::error::{Error, Result};

/// Read-back GETs a run may plan without `--api-budget` (a Business project's calls of 20
/// minutes).
pub const DEFAULT_API_BUDGET: u64 = 2_000;
/// `--verify all` over more codes than this needs an explicit `--api-budget`.
pub const VERIFY_ALL_LIMIT: u64 = 1_000;
/// The least reserve when `--api-reserve` is not given.
pub const MIN_API_RESERVE: u64 = 50;
/// Polls expected per posted batch, for the plan (a job of a few minutes, polled at the
/// growing interval): an estimate, never a limit.
pub const POLLS_PER_BATCH: u64 = 10;

/// API calls, by kind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ApiCalls {
    /// `POST /v1/campaigns/{id}/importCSV`.
    pub post: u64,
    /// `GET /v1/async-actions/{id}`: following a job.
    pub poll: u64,
    /// `GET /v1/async-actions`: looking for the jobs of an unconfirmed batch.
    pub list: u64,
    /// `GET /v1/vouchers/{code}`: the read-back.
    pub verify: u64,
}

impl ApiCalls {
    /// Every call.
    pub fn total(&self) -> u64 {
        self.post + self.poll + self.list + self.verify
    }

    /// Adds `other`'s calls.
    pub fn add(&mut self, other: &ApiCalls) {
        self.post += other.post;
        self.poll += other.poll;
        self.list += other.list;
        self.verify += other.verify;
    }
}

/// What a run expects to spend, said before its first request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CallPlan {
    /// Batches to post.
    pub posts: u64,
    /// Polls expected (an estimate: 10 per batch with a job to follow).
    pub polls: u64,
    /// Codes to read back, one GET each.
    pub verify: u64,
    /// All of them.
    pub total: u64,
    /// The most read-back GETs allowed (`--api-budget`).
    pub budget: u64,
}

impl CallPlan {
    /// A plan of `posts` POSTs, `jobs` jobs to follow and `verify` read-back GETs.
    pub fn new(posts: u64, jobs: u64, verify: u64, budget: u64) -> Self {
        let polls = jobs * POLLS_PER_BATCH;
        CallPlan {
            posts,
            polls,
            verify,
            total: posts + polls + verify,
            budget,
        }
    }

    /// Refuses a read-back the user did not allow: over `--api-budget`, or `--verify all` over
    /// [`VERIFY_ALL_LIMIT`] codes without an `--api-budget` given for it.
    pub fn check(&self, verify_all: bool, budget_given: bool) -> Result<()> {
        if verify_all && !budget_given && self.verify > VERIFY_ALL_LIMIT {
            return Err(Error::usage(
                format!(
                    "--verify all would read back {} codes, one GET each ({} calls in all with {} POSTs and about {} polls): more than the {VERIFY_ALL_LIMIT} codes --verify all reads without a budget, and Voucherify blocks a project that exceeds its plan's API limit",
                    self.verify, self.total, self.posts, self.polls
                ),
                format!(
                    "read back a sample (--verify 20), or allow it with --api-budget {} after checking the project's plan has the calls",
                    self.verify
                ),
            ));
        }
        if self.verify > self.budget {
            return Err(Error::usage(
                format!(
                    "the read-back would spend {} GETs ({} calls in all with {} POSTs and about {} polls), over the budget of {} (--api-budget)",
                    self.verify, self.total, self.posts, self.polls, self.budget
                ),
                format!(
                    "read back fewer codes (--verify N), or raise --api-budget to {} after checking the project's plan has the calls",
                    self.verify
                ),
            ));
        }
        Ok(())
    }
}

/// The calls a run expects to make: a POST for each batch it will post (none when the posting
/// is halted), polls for each job it will follow, and a GET for each code it will read back
/// (batch 1 whole when it is the canary).
pub(crate) fn plan(
    state: &UploadState,
    options: &UploadOptions,
    canary: bool,
    halted: bool,
) -> CallPlan {
    let mut posts = 0;
    let mut jobs = 0;
    let mut verify = 0;
    for (index, batch) in state.batches.iter().enumerate() {
        let count = if canary && index == 0 {
            VerifyCount::All
        } else {
            options.verify
        };
        let codes = match count {
            VerifyCount::Off => 0,
            VerifyCount::All => batch.rows,
            VerifyCount::Sample(n) => n.min(batch.rows),
        };
        let verified = batch.verification.as_ref().is_some_and(|v| v.complete);
        if options.verify_only {
            verify += if batch.status == BatchStatus::Done {
                codes
            } else {
                0
            };
            continue;
        }
        let to_post = match batch.status {
            BatchStatus::Pending | BatchStatus::Refused => true,
            BatchStatus::Unconfirmed | BatchStatus::Posting => options.repost_unconfirmed,
            _ => false,
        };
        if to_post && !halted {
            posts += 1;
            jobs += 1;
            verify += codes;
        } else if batch.status.has_job() {
            jobs += 1;
            verify += codes;
        } else if batch.status == BatchStatus::Done && !verified {
            verify += codes;
        }
    }
    CallPlan::new(
        posts,
        jobs,
        verify,
        options.api_budget.unwrap_or(DEFAULT_API_BUDGET),
    )
}

/// Voucherify's rate limit as its answers last told it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateLimit {
    /// `X-Rate-Limit-Remaining` of the last answer that had it.
    pub remaining: Option<u64>,
    /// `X-Rate-Limit-Type` of that answer (`api_calls`, `bulk_api_calls`, `api_calls_cycle`).
    pub kind: Option<String>,
    /// The limit as far as the answers show it: `X-Rate-Limit-Limit` when sent, else the
    /// largest remainder seen.
    pub limit: Option<u64>,
}

/// The kinds of call, as [`ApiCalls`] counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Post,
    Poll,
    List,
    Verify,
}

impl CallKind {
    /// The kind of a `GET` of `path`.
    pub(crate) fn of_get(path: &str) -> CallKind {
        if path.starts_with("/v1/vouchers/") {
            CallKind::Verify
        } else if path.starts_with("/v1/async-actions/") {
            CallKind::Poll
        } else {
            CallKind::List
        }
    }
}

/// Counts the run's calls and follows Voucherify's remainder.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    calls: Mutex<ApiCalls>,
    seen: Mutex<RateLimit>,
    /// `--api-reserve`, when given.
    reserve: Option<u64>,
}

impl Meter {
    pub(crate) fn new(reserve: Option<u64>) -> Self {
        Meter {
            reserve,
            ..Meter::default()
        }
    }

    /// Counts a call that reached the server (an answer, or one lost after it went out), and
    /// reads the rate-limit headers of its answer.
    pub(crate) fn record(&self, kind: CallKind, answer: Option<&Answer>) {
        {
            let mut calls = self.calls.lock().expect("calls lock");
            match kind {
                CallKind::Post => calls.post += 1,
                CallKind::Poll => calls.poll += 1,
                CallKind::List => calls.list += 1,
                CallKind::Verify => calls.verify += 1,
            }
        }
        let Some(answer) = answer else { return };
        let mut seen = self.seen.lock().expect("rate limit lock");
        if let Some(remaining) = answer.rate_limit_remaining {
            seen.remaining = Some(remaining);
            seen.kind = answer.rate_limit_type.clone().or(seen.kind.take());
            let largest = answer.rate_limit_limit.unwrap_or(remaining);
            seen.limit = Some(seen.limit.map_or(largest, |l| l.max(largest)));
        }
    }

    /// The calls counted so far.
    pub(crate) fn calls(&self) -> ApiCalls {
        *self.calls.lock().expect("calls lock")
    }

    /// The rate limit as last seen (None before any answer carried it).
    pub(crate) fn rate_limit(&self) -> Option<RateLimit> {
        let seen = self.seen.lock().expect("rate limit lock").clone();
        seen.remaining.is_some().then_some(seen)
    }

    /// The reserve in force: `--api-reserve`, else 20% of the limit seen, at least
    /// [`MIN_API_RESERVE`].
    fn reserve_for(&self, seen: &RateLimit) -> u64 {
        self.reserve
            .unwrap_or_else(|| (seen.limit.unwrap_or(0) / 5).max(MIN_API_RESERVE))
    }

    /// Why no more optional calls (read-back GETs, new batches) should be made now: the
    /// remainder Voucherify last gave is under the reserve.
    pub(crate) fn short(&self) -> Option<String> {
        let seen = self.seen.lock().expect("rate limit lock").clone();
        let remaining = seen.remaining?;
        let reserve = self.reserve_for(&seen);
        (remaining < reserve).then(|| {
            format!(
                "Voucherify has {remaining} calls left{} (X-Rate-Limit-Remaining), under the reserve of {reserve} (--api-reserve): the read-back stopped and no new batch was posted so that the project keeps its calls; run upload again later (or upload --verify-only to finish the read-back)",
                seen.kind.map(|k| format!(" of {k}")).unwrap_or_default()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(remaining: Option<u64>, kind: Option<&str>) -> Answer {
        Answer {
            status: 200,
            retry_after: None,
            location: None,
            rate_limit_remaining: remaining,
            rate_limit_type: kind.map(str::to_owned),
            rate_limit_limit: None,
            text: String::new(),
            json: None,
        }
    }

    #[test]
    fn calls_are_counted_by_kind() {
        let meter = Meter::new(None);
        meter.record(CallKind::Post, None);
        meter.record(CallKind::of_get("/v1/async-actions/aa_1"), None);
        meter.record(CallKind::of_get("/v1/async-actions?limit=100"), None);
        meter.record(CallKind::of_get("/v1/vouchers/GC-1"), None);
        meter.record(CallKind::of_get("/v1/vouchers/GC-2"), None);
        let calls = meter.calls();
        assert_eq!(
            (calls.post, calls.poll, calls.list, calls.verify),
            (1, 1, 1, 2)
        );
        assert_eq!(calls.total(), 5);
    }

    #[test]
    fn the_reserve_is_a_fifth_of_the_limit_seen_and_at_least_fifty() {
        let meter = Meter::new(None);
        assert_eq!(meter.short(), None, "no header seen: nothing to go by");
        meter.record(CallKind::Poll, Some(&answer(Some(1000), Some("api_calls"))));
        assert_eq!(meter.reserve_for(&meter.seen.lock().unwrap()), 200);
        meter.record(CallKind::Poll, Some(&answer(Some(201), None)));
        assert_eq!(meter.short(), None);
        meter.record(CallKind::Poll, Some(&answer(Some(199), None)));
        let why = meter.short().unwrap();
        assert!(why.contains("199 calls left of api_calls"), "{why}");
        assert!(why.contains("reserve of 200"), "{why}");

        let small = Meter::new(None);
        small.record(CallKind::Poll, Some(&answer(Some(100), None)));
        assert_eq!(
            small.reserve_for(&small.seen.lock().unwrap()),
            MIN_API_RESERVE
        );
        let given = Meter::new(Some(5));
        given.record(CallKind::Poll, Some(&answer(Some(6), None)));
        assert_eq!(given.short(), None);
        given.record(CallKind::Poll, Some(&answer(Some(4), None)));
        assert!(given.short().is_some());
    }

    #[test]
    fn a_read_back_over_the_budget_is_refused_with_the_numbers() {
        let plan = CallPlan::new(3, 3, 2_500, DEFAULT_API_BUDGET);
        assert_eq!(plan.total, 3 + 30 + 2_500);
        let e = plan.check(false, false).unwrap_err().to_string();
        assert!(e.contains("2500 GETs") && e.contains("--api-budget"), "{e}");
        let all = CallPlan::new(1, 1, 1_500, 5_000);
        let e = all.check(true, false).unwrap_err().to_string();
        assert!(e.contains("--verify all would read back 1500 codes"), "{e}");
        assert!(all.check(true, true).is_ok());
        assert!(CallPlan::new(1, 1, 20, DEFAULT_API_BUDGET)
            .check(true, false)
            .is_ok());
    }
}
