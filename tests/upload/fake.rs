//! A fake Voucherify on 127.0.0.1, on raw TCP so that it can misbehave the way a real network
//! and a real server do: close the connection after reading a POST, answer slowly, redirect,
//! echo secrets, answer in shapes the documentation allows but rarely shows.
//!
//! It serves `POST /v1/campaigns/{id}/importCSV`, `GET /v1/async-actions/{id}`,
//! `GET /v1/async-actions`, `GET /v1/vouchers/{code}`, `GET /v1/campaigns/{id}` (by id or
//! name) and `GET /v1/metadata-schemas` with the documented shapes, one
//! request per connection, and logs every request it reads (method, path, headers, the uploaded
//! file's name, what it answered). What an import sends it stores as vouchers, read the way
//! [`Storing`] says, so that a read-back finds what a real project would hold.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const TOKEN: &str = "secret-token-6f1d";
pub const APP_ID: &str = "appid-7e21b";
pub const CAMPAIGN: &str = "camp_test";
pub const MANAGEMENT_ID: &str = "mgmt-id-5c3a";
pub const MANAGEMENT_TOKEN: &str = "mgmt-token-9b8e7d";

/// How the fake answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// As Voucherify would.
    Normal,
    /// Acts as Voucherify would (a POST creates its job), then closes the connection without
    /// a word.
    ActThenDrop,
    /// Acts as Voucherify would, then answers this status and body instead.
    ActThenAnswer(u16, String),
    /// Answers this, doing nothing.
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Waits, then replies.
    Slow(Duration, Box<Reply>),
}

impl Reply {
    pub fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply::Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(status: u16, name: &str, value: &str, body: impl Into<String>) -> Reply {
        Reply::Answer {
            status,
            headers: vec![(name.to_owned(), value.to_owned())],
            body: body.into(),
        }
    }
}

/// How the fake stores what an import sends: faithfully, or the ways a project may read a CSV
/// otherwise than the tool assumes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Storing {
    /// As sent: amounts in minor units, dates as instants, booleans as booleans.
    #[default]
    Faithful,
    /// Amounts at 1/100 of what was sent.
    AmountsHundredth,
    /// Amounts at 100 times what was sent (the CSV read in major units).
    AmountsTimes100,
    /// `Start Date` and `Expiration Date` not mapped.
    DatesDropped,
    /// This metadata key not stored.
    MetadataKeyDropped(String),
    /// Boolean metadata stored as the text `"true"`/`"false"`.
    BooleansAsText,
    /// This code reported imported but not stored (GET answers 404).
    CodeMissing(String),
    /// Dates without a zone read in the project's time zone, this many minutes east of UTC.
    DatesInZone(i64),
}

/// How the fake reads `Gift Amount`: Voucherify's text calls it both the initial amount and the
/// current balance (`balance = amount - redeemed_amount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GiftReading {
    /// `gift.amount` is the amount sent, `gift.balance` what is left after the redeemed amount.
    #[default]
    Initial,
    /// `gift.balance` is the amount sent, `gift.amount` that plus the redeemed amount.
    Balance,
}

/// How the fake behaves; tests change it between runs.
pub struct Behaviour {
    /// Replies to the next POSTs, before answering normally.
    pub posts: VecDeque<Reply>,
    /// Replies to the next polls of a job, before answering normally.
    pub polls: VecDeque<Reply>,
    /// Replies to the next listings of jobs, before answering normally.
    pub lists: VecDeque<Reply>,
    /// Batch file name -> its job's `failed[]` entries.
    pub failed_rows: HashMap<String, Vec<Value>>,
    /// Batch file name -> its job's whole `result` (instead of the usual one).
    pub results: HashMap<String, Value>,
    /// The status a finished job reports (`DONE` normally).
    pub done_status: String,
    /// Batches whose job ends `FAILED`.
    pub failing: HashSet<String>,
    /// Batches whose job never finishes.
    pub hanging: HashSet<String>,
    /// Campaigns that exist (for imports).
    pub campaigns: Vec<String>,
    /// The campaign objects `GET /v1/campaigns/{id}` serves, found by id or by name.
    pub campaign_objects: Vec<Value>,
    /// What `GET /v1/metadata-schemas` answers.
    pub metadata_schemas: Value,
    /// The status an export reaches after its first poll (`DONE`, or `ERROR`).
    pub export_status: String,
    /// What `GET /management/v1/projects/{id}` answers for any id.
    pub project_settings: Value,
    /// Where an export's file is served (`result.url` is this + `/v1/exports/{id}?token=...`);
    /// this fake itself when None.
    pub download_base: Option<String>,
    /// The codes this fake serves as an export's file, when it is the download host (none:
    /// it serves no file).
    pub download_codes: Option<Vec<String>>,
    /// Text put into every string Voucherify would write in its normal answers (message,
    /// reasons, status of listed jobs).
    pub echo: Option<String>,
    /// How imported rows are stored.
    pub storing: Storing,
    /// How `Gift Amount` is read.
    pub gift_reading: GiftReading,
    /// The `operation_status` an ended job reports (none by default, like the older answers).
    pub operation_status: Option<String>,
    /// The listing of jobs says `has_more` (the documented example does not).
    pub list_has_more: bool,
    /// `X-Rate-Limit-Remaining` of the next answer, counting down by one per request.
    pub rate_limit_remaining: Option<u64>,
    /// How far Voucherify's clock is from this machine's (negative: behind).
    pub clock_offset: chrono::Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            posts: VecDeque::new(),
            polls: VecDeque::new(),
            lists: VecDeque::new(),
            failed_rows: HashMap::new(),
            results: HashMap::new(),
            done_status: "DONE".into(),
            failing: HashSet::new(),
            hanging: HashSet::new(),
            campaigns: vec![CAMPAIGN.to_owned()],
            campaign_objects: vec![json!({
                "id": CAMPAIGN, "name": "Gift cards 2026", "campaign_type": "GIFT_VOUCHERS",
                "type": "STATIC", "vouchers_count": 0, "active": true,
                "use_voucher_metadata_schema": true, "object": "campaign"
            })],
            metadata_schemas: json!({"object": "list", "data_ref": "schemas", "schemas": [], "total": 0}),
            export_status: "DONE".into(),
            project_settings: json!({"id": "proj_test", "name": "Test", "timezone": "Europe/Warsaw", "case_sensitive_codes": false}),
            download_base: None,
            download_codes: Some(Vec::new()),
            echo: None,
            storing: Storing::Faithful,
            gift_reading: GiftReading::Initial,
            operation_status: None,
            list_has_more: true,
            rate_limit_remaining: None,
            clock_offset: chrono::Duration::zero(),
        }
    }
}

/// One request the fake read.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// With its query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The uploaded file's name, for an import.
    pub file: Option<String>,
    /// What it answered; None when it closed the connection without an answer.
    pub status: Option<u16>,
    /// The POST created a job.
    pub queued: bool,
    /// When the fake read it.
    pub at: Instant,
}

impl Logged {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Job {
    file: String,
    rows: u64,
    polls: u32,
    created_at: String,
    kind: String,
}

struct Shared {
    log: Mutex<Vec<Logged>>,
    behaviour: Mutex<Behaviour>,
    jobs: Mutex<Vec<(String, Job)>>,
    /// Code -> the voucher object stored for it.
    vouchers: Mutex<HashMap<String, Value>>,
    /// Export id -> polls so far, and deleted.
    exports: Mutex<HashMap<String, (u32, bool)>>,
    /// This fake's own URL.
    url: String,
}

pub struct Fake {
    pub url: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    port: u16,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fake {
    pub fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            log: Mutex::new(Vec::new()),
            behaviour: Mutex::new(Behaviour::default()),
            jobs: Mutex::new(Vec::new()),
            vouchers: Mutex::new(HashMap::new()),
            exports: Mutex::new(HashMap::new()),
            url: format!("http://127.0.0.1:{port}"),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = shared.clone();
                    std::thread::spawn(move || serve(stream, &shared));
                }
            })
        };
        Fake {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            stop,
            port,
            thread: Some(thread),
        }
    }

    pub fn behaviour(&self) -> std::sync::MutexGuard<'_, Behaviour> {
        self.shared.behaviour.lock().unwrap()
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The imports posted (`POST .../importCSV`; an export's POST is not one).
    pub fn posts(&self) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.method == "POST" && l.path.ends_with("/importCSV"))
            .collect()
    }

    /// POSTs per batch file name.
    pub fn posts_per_file(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for post in self.posts() {
            *counts
                .entry(post.file.clone().unwrap_or_default())
                .or_insert(0) += 1;
        }
        counts
    }

    /// When each POST was read.
    pub fn post_times(&self) -> Vec<Instant> {
        self.posts().iter().map(|p| p.at).collect()
    }

    /// Stores a voucher as if an earlier import had created it long ago.
    pub fn store_voucher(&self, code: &str, voucher: Value) {
        self.shared
            .vouchers
            .lock()
            .unwrap()
            .insert(code.to_owned(), voucher);
    }

    /// Adds `count` jobs of `kind` created by others within one second, a millisecond apart,
    /// starting a second from now (so that they are listed before any job a test creates now).
    pub fn add_jobs(&self, count: usize, kind: &str) {
        let now = chrono::Utc::now() + chrono::Duration::seconds(1);
        let mut jobs = self.shared.jobs.lock().unwrap();
        for i in 0..count {
            let at = now + chrono::Duration::milliseconds(i as i64 % 1000);
            let id = format!("aa_other_{}", jobs.len() + 1);
            jobs.push((
                id,
                Job {
                    file: String::new(),
                    rows: 0,
                    polls: 0,
                    created_at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    kind: kind.to_owned(),
                },
            ));
        }
    }

    /// The stored voucher of a code.
    pub fn voucher(&self, code: &str) -> Option<Value> {
        self.shared.vouchers.lock().unwrap().get(code).cloned()
    }

    /// Jobs created per batch file name.
    /// Exports created, with whether each was deleted.
    pub fn exports(&self) -> HashMap<String, bool> {
        self.shared
            .exports
            .lock()
            .unwrap()
            .iter()
            .map(|(id, (_, deleted))| (id.clone(), *deleted))
            .collect()
    }

    pub fn jobs_per_file(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (_, job) in self.shared.jobs.lock().unwrap().iter() {
            *counts.entry(job.file.clone()).or_insert(0) += 1;
        }
        counts
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A request as read off the wire.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    // A TLS ClientHello: this fake speaks plain HTTP only, so the handshake fails.
    let mut first = [0u8; 1];
    if stream
        .peek(&mut first)
        .map(|n| n == 1 && first[0] == 0x16)
        .unwrap_or(true)
    {
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    let Some(request) = read_request(&stream) else {
        return;
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let file = if request.method == "POST" {
        multipart_file(&header("Content-Type").unwrap_or_default(), &request.body)
    } else {
        None
    };
    let authorized = if request.path.starts_with("/management/") {
        header("X-Management-Id").as_deref() == Some(MANAGEMENT_ID)
            && header("X-Management-Token").as_deref() == Some(MANAGEMENT_TOKEN)
    } else {
        header("X-App-Id").as_deref() == Some(APP_ID)
            && header("X-App-Token").as_deref() == Some(TOKEN)
    };
    let scripted = {
        let mut b = shared.behaviour.lock().unwrap();
        let queue = if request.method == "POST" {
            &mut b.posts
        } else if request.path.starts_with("/v1/async-actions/") {
            &mut b.polls
        } else {
            &mut b.lists
        };
        queue.pop_front().unwrap_or(Reply::Normal)
    };
    let index = {
        let mut log = shared.log.lock().unwrap();
        log.push(Logged {
            method: request.method.clone(),
            path: request.path.clone(),
            headers: request.headers.clone(),
            file: file.as_ref().map(|(name, _)| name.clone()),
            status: None,
            queued: false,
            at: Instant::now(),
        });
        log.len() - 1
    };
    let mut reply = scripted;
    while let Reply::Slow(wait, then) = reply {
        std::thread::sleep(wait);
        reply = *then;
    }
    let queued = std::cell::Cell::new(false);
    let act = |shared: &Shared| {
        if !authorized {
            return (
                401,
                json!({"code": 401, "key": "unauthorized", "message": "Unauthorized"}),
            );
        }
        let before = shared.jobs.lock().unwrap().len();
        let answer = normal(&request, file.as_ref(), shared);
        queued.set(shared.jobs.lock().unwrap().len() > before);
        answer
    };
    let answer = match reply {
        Reply::Normal => Some((act(shared), Vec::new())),
        Reply::ActThenDrop => {
            act(shared);
            None
        }
        Reply::ActThenAnswer(status, body) => {
            act(shared);
            Some(((status, Value::String(body)), Vec::new()))
        }
        Reply::Answer {
            status,
            headers,
            body,
        } => Some(((status, Value::String(body)), headers)),
        Reply::Slow(..) => unreachable!(),
    };
    {
        let mut log = shared.log.lock().unwrap();
        log[index].queued = queued.get();
        log[index].status = answer.as_ref().map(|((status, _), _)| *status);
    }
    let Some(((status, body), headers)) = answer else {
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    };
    let body = match body {
        Value::String(text) => text,
        other => other.to_string(),
    };
    let mut head = format!(
        "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    {
        let mut b = shared.behaviour.lock().unwrap();
        if let Some(remaining) = b.rate_limit_remaining.as_mut() {
            *remaining = remaining.saturating_sub(1);
            head.push_str(&format!(
                "X-Rate-Limit-Remaining: {remaining}\r\nX-Rate-Limit-Type: api_calls\r\n"
            ));
        }
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// What Voucherify would answer.
fn normal(request: &Request, file: Option<&(String, String)>, shared: &Shared) -> (u16, Value) {
    let b = shared.behaviour.lock().unwrap();
    let echo = b.echo.clone().unwrap_or_default();
    if request.method == "POST" && request.path == "/v1/exports" {
        return exports(request, "", &b, shared);
    }
    if request.method == "POST" {
        let Some(campaign) = request
            .path
            .strip_prefix("/v1/campaigns/")
            .and_then(|p| p.strip_suffix("/importCSV"))
        else {
            return (404, json!({"code": 404, "key": "not_found"}));
        };
        if !b.campaigns.iter().any(|c| c == campaign) {
            return (
                404,
                json!({"code": 404, "key": "not_found", "message": "Resource not found", "details": format!("Cannot find campaign {campaign}{echo}")}),
            );
        }
        let Some((name, csv)) = file else {
            return (
                400,
                json!({"code": 400, "key": "invalid_payload", "message": "Missing file"}),
            );
        };
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let records: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let code_at = header.iter().position(|h| h == "Code").unwrap_or(0);
        // Voucherify's clock, when the job is created.
        let job_created = chrono::Utc::now() + b.clock_offset;
        let codes: Vec<String> = records.iter().map(|r| r[code_at].clone()).collect();
        let failed_codes: Vec<String> = b
            .failed_rows
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|f| f["code"].as_str().map(str::to_owned))
            .collect();
        {
            let mut vouchers = shared.vouchers.lock().unwrap();
            for record in &records {
                let code = &record[code_at];
                if failed_codes.contains(code) || b.storing == Storing::CodeMissing(code.clone()) {
                    continue;
                }
                // An import updates a code that exists: Active and Category only.
                if let Some(old) = vouchers.get_mut(code) {
                    for (column, value) in header.iter().zip(record) {
                        match column.as_str() {
                            "Active" if !value.is_empty() => {
                                old["active"] = json!(value.eq_ignore_ascii_case("true"))
                            }
                            "Category" if !value.is_empty() => old["category"] = json!(value),
                            _ => {}
                        }
                    }
                    continue;
                }
                let mut voucher = stored_voucher(&header, record, &b.storing, b.gift_reading);
                // Created while the job runs, after the job itself.
                voucher["created_at"] = json!((job_created + chrono::Duration::milliseconds(1))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                vouchers.insert(code.clone(), voucher);
            }
        }
        let mut jobs = shared.jobs.lock().unwrap();
        let id = format!("aa_{}", jobs.len() + 1);
        jobs.push((
            id.clone(),
            Job {
                file: name.clone(),
                rows: codes.len() as u64,
                polls: 0,
                created_at: job_created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                kind: "CAMPAIGN.VOUCHERS_IMPORT_CSV".into(),
            },
        ));
        return (202, json!({"async_action_id": id}));
    }
    if let Some(id) = request.path.strip_prefix("/v1/async-actions/") {
        let mut jobs = shared.jobs.lock().unwrap();
        let Some((_, job)) = jobs.iter_mut().find(|(i, _)| i == id) else {
            return (
                404,
                json!({"code": 404, "key": "not_found", "message": "Resource not found"}),
            );
        };
        job.polls += 1;
        if job.polls == 1 || b.hanging.contains(&job.file) {
            return (
                200,
                json!({"id": id, "type": "CAMPAIGN.VOUCHERS_IMPORT_CSV", "status": "IN_PROGRESS", "progress": 40}),
            );
        }
        if b.failing.contains(&job.file) {
            let result = b.results.get(&job.file).cloned().unwrap_or_else(
                || json!({"message": format!("The file could not be processed{echo}")}),
            );
            return (
                200,
                json!({"id": id, "type": "CAMPAIGN.VOUCHERS_IMPORT_CSV", "status": "FAILED", "progress": 100,
                       "result": result}),
            );
        }
        let result = b.results.get(&job.file).cloned().unwrap_or_else(|| {
            let failed = b.failed_rows.get(&job.file).cloned().unwrap_or_default();
            let failed_count = failed.len() as u64;
            json!({"message": format!("{} voucher(s) imported successfully{echo}", job.rows - failed_count),
                   "failed": failed, "done_count": job.rows - failed_count, "failed_count": failed_count})
        });
        let mut action = json!({"id": id, "type": "CAMPAIGN.VOUCHERS_IMPORT_CSV", "status": b.done_status, "progress": 100, "result": result, "created_at": job.created_at});
        if let Some(status) = &b.operation_status {
            action["operation_status"] = json!(status);
        }
        return (200, action);
    }
    if let Some(rest) = request.path.strip_prefix("/v1/exports") {
        return exports(request, rest, &b, shared);
    }
    if let Some(wanted) = request.path.strip_prefix("/v1/campaigns/") {
        let wanted = percent_decode(wanted);
        let found = b.campaign_objects.iter().find(|c| {
            c.get("id").and_then(Value::as_str) == Some(wanted.as_str())
                || c.get("name").and_then(Value::as_str) == Some(wanted.as_str())
        });
        return match found {
            Some(campaign) => {
                let mut campaign = campaign.clone();
                if !echo.is_empty() {
                    campaign["description"] = json!(format!("a campaign{echo}"));
                }
                (200, campaign)
            }
            None => (
                404,
                json!({"code": 404, "key": "not_found", "message": "Resource not found", "details": format!("Cannot find campaign with id {wanted}{echo}")}),
            ),
        };
    }
    if request.path.starts_with("/management/v1/projects/") {
        return (200, b.project_settings.clone());
    }
    if request.path == "/v1/metadata-schemas" {
        return (200, b.metadata_schemas.clone());
    }
    if let Some(code) = request.path.strip_prefix("/v1/vouchers/") {
        let code = percent_decode(code);
        return match shared.vouchers.lock().unwrap().get(&code) {
            Some(voucher) => (200, voucher.clone()),
            None => (
                404,
                json!({"code": 404, "key": "not_found", "message": "Resource not found", "details": format!("Cannot find voucher with id {code}")}),
            ),
        };
    }
    if request.path.starts_with("/v1/async-actions") {
        let query = request.path.split_once('?').map(|(_, q)| q).unwrap_or("");
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .map(percent_decode)
        };
        let limit: usize = param("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
        let end = param("end_date").map(|e| {
            chrono::DateTime::parse_from_rfc3339(&e)
                .expect("end_date is ISO 8601")
                .timestamp_millis()
        });
        let jobs = shared.jobs.lock().unwrap();
        let mut newest_first: Vec<&(String, Job)> = jobs.iter().collect();
        newest_first.sort_by_key(|(_, job)| std::cmp::Reverse(job.created_at.clone()));
        let before_end: Vec<&&(String, Job)> = newest_first
            .iter()
            .filter(|(_, job)| {
                end.is_none_or(|end| {
                    chrono::DateTime::parse_from_rfc3339(&job.created_at)
                        .unwrap()
                        .timestamp_millis()
                        < end
                })
            })
            .collect();
        let listed: Vec<Value> = before_end
            .iter()
            .take(limit)
            .map(|(id, job)| {
                json!({"id": id, "type": job.kind, "status": format!("DONE{echo}"),
                       "created_at": job.created_at, "object": "async_action"})
            })
            .collect();
        let mut page =
            json!({"object": "list", "data_ref": "async_actions", "async_actions": listed});
        if b.list_has_more {
            page["has_more"] = json!(before_end.len() > limit);
        }
        return (200, page);
    }
    (404, json!({"code": 404, "key": "not_found"}))
}

/// The voucher object a project stores for one imported row, read the way `storing` says.
fn stored_voucher(
    header: &[String],
    record: &[String],
    storing: &Storing,
    gift_reading: GiftReading,
) -> Value {
    let mut voucher = json!({"object": "voucher", "metadata": {}});
    let amount = |text: &str| -> Value {
        let sent: i64 = text.parse().unwrap_or(0);
        match storing {
            Storing::AmountsHundredth => json!(sent / 100),
            Storing::AmountsTimes100 => json!(sent * 100),
            _ => json!(sent),
        }
    };
    for (column, value) in header.iter().zip(record) {
        if value.is_empty() {
            continue;
        }
        match column.as_str() {
            "Code" => voucher["code"] = json!(value),
            "Active" => voucher["active"] = json!(value.eq_ignore_ascii_case("true")),
            "Category" => voucher["category"] = json!(value),
            "Gift Amount" => voucher["gift"] = json!({"amount": amount(value)}),
            "Redeemed Amount" => voucher["redemption"]["redeemed_amount"] = amount(value),
            "Redeemed Quantity" => {
                voucher["redemption"]["redeemed_quantity"] =
                    json!(value.parse::<i64>().unwrap_or(0))
            }
            "Loyalty Points" => {
                voucher["loyalty_card"] = json!({"points": value.parse::<i64>().unwrap_or(0)})
            }
            "Start Date" | "Expiration Date" if *storing == Storing::DatesDropped => {}
            "Start Date" => voucher["start_date"] = json!(instant(value, storing)),
            "Expiration Date" => voucher["expiration_date"] = json!(instant(value, storing)),
            key if *storing == Storing::MetadataKeyDropped(key.to_owned()) => {}
            key => {
                let boolean =
                    value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false");
                voucher["metadata"][key] = if boolean && *storing != Storing::BooleansAsText {
                    json!(value.eq_ignore_ascii_case("true"))
                } else {
                    json!(value)
                };
            }
        }
    }
    // Gift cards: the amount and the balance, by the reading.
    if let Some(sent) = voucher.pointer("/gift/amount").and_then(Value::as_i64) {
        let redeemed = voucher
            .pointer("/redemption/redeemed_amount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        voucher["gift"] = match gift_reading {
            GiftReading::Initial => json!({"amount": sent, "balance": sent - redeemed}),
            GiftReading::Balance => json!({"amount": sent + redeemed, "balance": sent}),
        };
    }
    voucher
}

/// A date of a batch as Voucherify shows it: `2026-01-01` -> `2026-01-01T00:00:00.000Z`; a date
/// without a zone read in UTC, or in the project's zone (`Storing::DatesInZone`).
fn instant(text: &str, storing: &Storing) -> String {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return at
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    }
    let east = match storing {
        Storing::DatesInZone(minutes) => *minutes,
        _ => 0,
    };
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap())
        });
    match local {
        Ok(at) => (at.and_utc() - chrono::Duration::minutes(east))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        Err(_) => text.to_owned(),
    }
}

/// `%2F` and the like back to their bytes.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `file` part of a multipart body: its file name and text.
fn multipart_file(content_type: &str, body: &[u8]) -> Option<(String, String)> {
    let boundary = content_type.split("boundary=").nth(1)?;
    let text = String::from_utf8_lossy(body);
    let start = text.find(&format!("--{boundary}\r\n"))?;
    let part = &text[start..];
    if !part.contains("Content-Disposition: form-data; name=\"file\"") {
        return None;
    }
    let name = part
        .split("filename=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_owned();
    let content_start = part.find("\r\n\r\n")? + 4;
    let content_end = part.find(&format!("\r\n--{boundary}--"))?;
    Some((name, part[content_start..content_end].to_owned()))
}

/// Waits until `condition` holds (at most 30 s).
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never happened: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `POST /v1/exports`, `GET /v1/exports/{id}` (`SCHEDULED`, then the status of
/// [`Behaviour::export_status`]), `DELETE /v1/exports/{id}`, and the download of an export's
/// file (`GET /v1/exports/{id}?token=...`).
fn exports(request: &Request, rest: &str, b: &Behaviour, shared: &Shared) -> (u16, Value) {
    let mut exports = shared.exports.lock().unwrap();
    if request.method == "POST" {
        let id = format!("exp_{}", exports.len() + 1);
        exports.insert(id.clone(), (0, false));
        return (
            200,
            json!({"id": id, "object": "export", "status": "SCHEDULED", "channel": "API",
                   "exported_object": "voucher", "parameters": {"fields": ["code"]}, "result": null}),
        );
    }
    let (id, query) = rest
        .trim_start_matches('/')
        .split_once('?')
        .unwrap_or((rest.trim_start_matches('/'), ""));
    if query.contains("token=") {
        let Some(codes) = &b.download_codes else {
            return (404, json!({"code": 404, "key": "not_found"}));
        };
        let mut csv = String::from("Code\n");
        for code in codes {
            csv.push_str(code);
            csv.push('\n');
        }
        return (200, Value::String(csv));
    }
    let Some((polls, deleted)) = exports.get_mut(id) else {
        return (
            404,
            json!({"code": 404, "key": "not_found", "message": "Resource not found"}),
        );
    };
    if request.method == "DELETE" {
        *deleted = true;
        return (204, Value::String(String::new()));
    }
    *polls += 1;
    if *polls == 1 {
        return (
            200,
            json!({"id": id, "object": "export", "status": "SCHEDULED", "result": null}),
        );
    }
    let base = b
        .download_base
        .clone()
        .unwrap_or_else(|| shared.url.clone());
    (
        200,
        json!({"id": id, "object": "export", "status": b.export_status, "channel": "API",
               "result": {"url": format!("{base}/v1/exports/{id}?token=dl-token-{id}")}}),
    )
}
