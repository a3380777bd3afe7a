//! `prepare --project-campaign`: the campaign and the voucher metadata schema read from a fake
//! Voucherify instead of files, the snapshot the folder keeps (`project/`), the run repeated
//! offline from it, and what a careless or hostile world does to it.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

use super::fake::{Fake, Reply, APP_ID, CAMPAIGN, TOKEN};
use super::{against_fake, with_fake_keys};
use crate::util::{files_below, BIN, ROOT};

const CARDS: &str = "fixtures/schema/cards_with_metadata.csv";
const SCHEMAS: &str = "fixtures/schema/metadata_schemas.json";

/// `prepare CARDS` with `args`, the fake's credentials in the environment, into `out`.
fn prepare(out: &Path, args: &[&str]) -> Output {
    with_fake_keys(&["prepare", CARDS, "--out", &out.display().to_string()])
        .args(args)
        .output()
        .unwrap()
}

/// A fake whose campaign is a discount campaign holding 7 codes, and whose project has the
/// fixture's metadata schemas.
fn project() -> Fake {
    let fake = Fake::start();
    {
        let mut b = fake.behaviour();
        b.campaign_objects = vec![json!({
            "id": CAMPAIGN, "name": "Spring discounts", "campaign_type": "DISCOUNT_COUPONS",
            "type": "STATIC", "vouchers_count": 7, "active": true,
            "use_voucher_metadata_schema": true, "object": "campaign"
        })];
        b.metadata_schemas =
            serde_json::from_str(&fs::read_to_string(Path::new(ROOT).join(SCHEMAS)).unwrap())
                .unwrap();
    }
    fake
}

/// `prepare` connected to `fake`'s project (campaign CAMPAIGN), with `extra` arguments.
fn connected(out: &Path, fake: &Fake, extra: &[&str]) -> Output {
    let args = [
        &["--project-campaign", CAMPAIGN, "--api-url", &fake.url][..],
        extra,
    ]
    .concat();
    prepare(out, &args)
}

/// Panics with the run's output unless it says `expected`.
fn assert_says(run: &Output, expected: &str) {
    assert!(
        text(run).contains(expected),
        "expected {expected:?} in:\n{}",
        text(run)
    );
}

fn summary(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_connected_prepare_writes_the_batches_a_run_on_the_same_files_writes() {
    let fake = project();
    let dir = tempfile::tempdir().unwrap();
    let connected = dir.path().join("connected");
    let run = prepare(
        &connected,
        &[
            "--project-campaign",
            "Spring discounts",
            "--api-url",
            &fake.url,
        ],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    // The same campaign and schema, given as files.
    let campaign = dir.path().join("campaign.json");
    fs::write(
        &campaign,
        fs::read(connected.join("project/campaign.json")).unwrap(),
    )
    .unwrap();
    let by_files = dir.path().join("files");
    let files_run = prepare(
        &by_files,
        &[
            "--campaign",
            &campaign.display().to_string(),
            "--metadata-schema",
            SCHEMAS,
        ],
    );
    assert_eq!(files_run.status.code(), Some(1), "{}", text(&files_run));
    let (ours, theirs) = (files_below(&connected), files_below(&by_files));
    for (name, bytes) in &theirs {
        if name.starts_with("import/") || name == "rejected.csv" || name == "origins.csv" {
            assert_eq!(&ours[name], bytes, "{name}");
        }
    }
    let s = summary(&connected);
    assert_eq!(s["campaign"]["campaign_type"], "DISCOUNT_COUPONS");
    assert_eq!(s["options"]["codes_in_campaign"], 7);
    assert_eq!(
        s["rejected_by_rule"],
        summary(&by_files)["rejected_by_rule"]
    );
    assert_eq!(s["project"]["campaign"], "Spring discounts");
    assert_eq!(s["project"]["campaign_id"], CAMPAIGN);
    assert_eq!(s["project"]["api_url"], fake.url.as_str());
    assert!(
        s["notes"]
            .to_string()
            .contains("campaign 'Spring discounts'"),
        "{}",
        s["notes"]
    );
    // Two reads, by the name (percent-encoded), with the credentials as headers only.
    let log = fake.log();
    let paths: Vec<&str> = log.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/campaigns/Spring%20discounts",
            "/v1/metadata-schemas",
            "/v1/exports",
            "/v1/exports/exp_1",
            "/v1/exports/exp_1",
            "/v1/exports/exp_1?token=dl-token-exp_1",
            "/v1/exports/exp_1",
        ]
    );
    let methods: Vec<&str> = log.iter().map(|l| l.method.as_str()).collect();
    assert_eq!(
        methods,
        ["GET", "GET", "POST", "GET", "GET", "GET", "DELETE"]
    );
    assert!(log
        .iter()
        .all(|l| l.header("X-App-Id") == Some(APP_ID) && l.header("X-App-Token") == Some(TOKEN)));
    assert_eq!(fake.exports(), [("exp_1".to_owned(), true)].into());
    // The snapshot: what was answered, hashed in read.json.
    let read: Value =
        serde_json::from_slice(&fs::read(connected.join("project/read.json")).unwrap()).unwrap();
    assert_eq!(
        read["campaign_sha256"],
        crate::util::sha256_hex(&fs::read(connected.join("project/campaign.json")).unwrap())
    );
}

#[test]
fn a_snapshot_repeats_the_run_offline() {
    let fake = project();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let run = connected(&first, &fake, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    drop(fake);
    let again = dir.path().join("again");
    let run = prepare(
        &again,
        &["--project-snapshot", &first.display().to_string()],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let (a, b) = (files_below(&first), files_below(&again));
    for name in a
        .keys()
        .filter(|n| n.starts_with("import/") || n.starts_with("project/"))
    {
        assert_eq!(a[name], b[name], "{name}");
    }
    assert_eq!(a["rejected.csv"], b["rejected.csv"]);
    let s = summary(&again);
    assert_eq!(s["project"]["offline"], true);
    assert_eq!(
        s["project"]["read_at"],
        summary(&first)["project"]["read_at"]
    );

    // A snapshot changed by hand is refused, naming the file.
    let campaign = first.join("project/campaign.json");
    let edited = fs::read_to_string(&campaign)
        .unwrap()
        .replace("DISCOUNT_COUPONS", "GIFT_VOUCHERS");
    fs::write(&campaign, edited).unwrap();
    let run = prepare(
        &dir.path().join("edited"),
        &["--project-snapshot", &first.display().to_string()],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "campaign.json is not the file the snapshot read");
}

#[test]
fn an_inactive_expired_campaign_is_noted_and_a_missing_one_is_an_error() {
    let fake = project();
    fake.behaviour().campaign_objects[0]["active"] = json!(false);
    fake.behaviour().campaign_objects[0]["expiration_date"] = json!("2020-01-01T00:00:00.000Z");
    fake.behaviour().campaign_objects[0]["use_voucher_metadata_schema"] = json!(false);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = connected(&out, &fake, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let notes = summary(&out)["notes"].to_string();
    assert!(notes.contains("is not active"), "{notes}");
    assert!(notes.contains("expired at 2020-01-01"), "{notes}");
    assert!(
        notes.contains("use_voucher_metadata_schema is false"),
        "{notes}"
    );

    let run = prepare(
        &dir.path().join("missing"),
        &[
            "--project-campaign",
            "No such campaign",
            "--api-url",
            &fake.url,
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "the project has no campaign 'No such campaign'");
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn a_promotion_in_the_project_is_refused_and_a_project_without_a_voucher_schema_is_noted() {
    let fake = project();
    fake.behaviour().campaign_objects[0]["campaign_type"] = json!("PROMOTION");
    let dir = tempfile::tempdir().unwrap();
    let run = connected(&dir.path().join("promotion"), &fake, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "PROMOTION campaign holds no codes");

    fake.behaviour().campaign_objects[0]["campaign_type"] = json!("DISCOUNT_COUPONS");
    fake.behaviour().metadata_schemas =
        json!({"object": "list", "data_ref": "schemas", "schemas": [], "total": 0});
    let out = dir.path().join("no_schema");
    let run = connected(&out, &fake, &[]);
    assert!(
        run.status.code() == Some(0) || run.status.code() == Some(1),
        "{}",
        text(&run)
    );
    let notes = summary(&out)["notes"].to_string();
    assert!(
        notes.contains("the project has no voucher metadata schema"),
        "{notes}"
    );
    assert!(summary(&out).get("metadata_types").is_none());
}

#[test]
fn no_credential_reaches_any_output_and_plain_http_to_another_host_is_refused() {
    let fake = project();
    fake.behaviour().echo = Some(format!(" {TOKEN} {APP_ID}"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = connected(&out, &fake, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(!text(&run).contains(TOKEN));
    for (name, bytes) in files_below(&out) {
        let body = String::from_utf8_lossy(&bytes);
        assert!(!body.contains(TOKEN), "{name} holds the token");
    }
    // A missing campaign whose 404 echoes the token: the error does not.
    let run = prepare(
        &dir.path().join("missing"),
        &["--project-campaign", "camp_other", "--api-url", &fake.url],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(!text(&run).contains(TOKEN), "{}", text(&run));

    // Plain http to another machine: refused before anything is sent.
    let before = fake.log().len();
    let run = prepare(
        &dir.path().join("plain"),
        &[
            "--project-campaign",
            CAMPAIGN,
            "--api-url",
            "http://example.com",
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "plain http");
    assert_eq!(fake.log().len(), before, "nothing sent");
}

#[test]
fn without_credentials_the_project_is_not_read_and_the_error_says_what_to_set() {
    let fake = project();
    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(BIN)
        .args([
            "check",
            CARDS,
            "--project-campaign",
            CAMPAIGN,
            "--api-url",
            &fake.url,
        ])
        .env_remove("VOUCHERIFY_APP_ID")
        .env_remove("VOUCHERIFY_APP_TOKEN")
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("VOUCHERIFY_APP_ID and VOUCHERIFY_APP_TOKEN must both be set"));
    assert!(fake.log().is_empty());
    drop(dir);
}

#[test]
fn a_redirect_is_not_followed_and_a_busy_server_is_waited_for() {
    let fake = project();
    fake.behaviour().lists.push_back(Reply::with_header(
        301,
        "Location",
        "http://127.0.0.1:9/steal?token=x",
        "",
    ));
    let dir = tempfile::tempdir().unwrap();
    let run = connected(&dir.path().join("redirected"), &fake, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "redirects are never followed");
    assert_eq!(fake.log().len(), 1, "one request, not followed");

    // A 429 and a 503 are waited out, as upload's reads are.
    fake.behaviour()
        .lists
        .push_back(Reply::with_header(429, "Retry-After", "0", "{}"));
    fake.behaviour().lists.push_back(Reply::status(503, "busy"));
    let out = dir.path().join("out");
    let run = connected(&out, &fake, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert_eq!(summary(&out)["campaign"]["id"], CAMPAIGN);
}

#[test]
fn a_connected_folder_uploads_and_can_be_replaced_with_force() {
    let fake = project();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let args = [
        "--project-campaign",
        CAMPAIGN,
        "--api-url",
        &fake.url,
        "--canary-rows",
        "0",
    ];
    let run = prepare(&out, &args);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    // project/ is the folder's own: --force replaces it like the rest.
    let again = prepare(&out, &[&args[..], &["--force"]].concat());
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    // A file of the user's own in project/ is not replaced.
    let own = out.join("project/notes.txt");
    fs::write(&own, "mine").unwrap();
    let refused = prepare(&out, &[&args[..], &["--force"]].concat());
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert_says(&refused, "project/notes.txt");
    fs::remove_file(&own).unwrap();
    let upload = upload(&out, &fake, &[]);
    assert!(
        upload.status.code() == Some(0) || upload.status.code() == Some(1),
        "{}",
        text(&upload)
    );
    assert!(!fake.posts().is_empty(), "{}", text(&upload));
}

#[test]
fn a_long_metadata_schema_answer_is_kept_whole() {
    let fake = project();
    {
        let mut b = fake.behaviour();
        let properties = b.metadata_schemas["schemas"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["related_object"] == "voucher")
            .unwrap()["properties"]
            .as_object_mut()
            .unwrap();
        for n in 0..300 {
            properties.insert(
                format!("extra_property_number_{n:03}"),
                json!({"type": "string", "array": false, "optional": true, "object_type": null}),
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = connected(&out, &fake, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let kept = fs::read(out.join("project/metadata-schemas.json")).unwrap();
    assert!(kept.len() > 4096 * 4, "{} bytes", kept.len());
    assert_eq!(
        summary(&out)["metadata_types"]["extra_property_number_299"],
        "string"
    );
}

/// A project whose export's file is served by a second fake (the download host) holding
/// `codes`.
fn project_with_codes(codes: &[&str]) -> (Fake, Fake) {
    let api = project();
    let download = Fake::start();
    download.behaviour().download_codes = Some(codes.iter().map(|c| c.to_string()).collect());
    api.behaviour().download_base = Some(download.url.clone());
    (api, download)
}

#[test]
fn a_code_already_in_the_project_is_rejected_from_the_export() {
    let existing = "MD-01";
    let cards = fs::read_to_string(Path::new(ROOT).join(CARDS)).unwrap();
    assert!(cards.contains(existing), "the fixture holds {existing}");
    let (api, download) = project_with_codes(&["OTHER-1", existing, "OTHER-3"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = connected(&out, &api, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let rejected = fs::read_to_string(out.join("rejected.csv")).unwrap();
    let line = rejected
        .lines()
        .find(|l| l.contains(existing))
        .unwrap_or_else(|| panic!("{existing} is rejected: {rejected}"));
    assert!(line.contains("existing_code"), "{line}");
    assert!(line.contains("the project's export exp_1"), "{line}");
    let s = summary(&out);
    assert_eq!(s["project"]["existing"]["codes"], 3);
    assert_eq!(s["project"]["existing"]["export_id"], "exp_1");
    assert_eq!(s["existing"][0]["codes"], 3);
    // The download went to the download host, with the credentials; the export was deleted.
    let got = download.log();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v1/exports/exp_1?token=dl-token-exp_1");
    assert_eq!(got[0].header("X-App-Token"), Some(TOKEN));
    assert_eq!(api.exports(), [("exp_1".to_owned(), true)].into());
    // No token of the download in any output.
    for (name, bytes) in files_below(&out) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("dl-token"),
            "{name} holds the download's token"
        );
    }
    // --no-project-codes skips the export.
    let skipped = dir.path().join("skipped");
    let run = connected(&skipped, &api, &["--no-project-codes"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(summary(&skipped)["project"].get("existing").is_none());
    assert_eq!(api.exports().len(), 1, "no second export");
}

#[test]
fn an_export_file_on_a_foreign_host_receives_nothing() {
    let (api, download) = project_with_codes(&["X-1"]);
    // The same machine under another name is another host.
    let foreign = download.url.replace("127.0.0.1", "localhost");
    api.behaviour().download_base = Some(foreign);
    let dir = tempfile::tempdir().unwrap();
    let run = connected(&dir.path().join("out"), &api, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "host 'localhost'");
    assert_says(&run, "nothing was sent to it");
    assert!(download.log().is_empty(), "the foreign host got a request");
    assert!(!text(&run).contains("dl-token"), "{}", text(&run));
    assert!(!dir.path().join("out").exists());

    api.behaviour().download_base = Some("https://evil.example".into());
    let run = connected(&dir.path().join("out"), &api, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "host 'evil.example'");
}

#[test]
fn an_export_that_fails_is_an_error() {
    let (api, _download) = project_with_codes(&["X-1"]);
    api.behaviour().export_status = "ERROR".into();
    let dir = tempfile::tempdir().unwrap();
    let run = connected(&dir.path().join("out"), &api, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert_says(&run, "status ERROR");
}

#[test]
fn an_export_of_a_million_codes_is_read_into_the_set() {
    let codes: Vec<String> = (0..1_000_000).map(|n| format!("PRJ-{n:07}")).collect();
    let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let (api, _download) = project_with_codes(&refs);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = connected(&out, &api, &["--campaign-limit", "100000000"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert_eq!(summary(&out)["project"]["existing"]["codes"], 1_000_000);
}

#[test]
fn a_run_stopped_by_a_bad_input_asks_for_no_export() {
    let fake = project();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    fs::write(&bad, "Cod,Active\nX,true\n").unwrap();
    let run = Command::new(BIN)
        .args(["check", &bad.display().to_string()])
        .args(["--project-campaign", CAMPAIGN, "--api-url", &fake.url])
        .env("VOUCHERIFY_APP_ID", APP_ID)
        .env("VOUCHERIFY_APP_TOKEN", TOKEN)
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(
        fake.exports().is_empty(),
        "an export was made for a run that stopped"
    );
}

/// `upload` of `out` to the fake, fast, with `extra` arguments.
fn upload(out: &Path, fake: &Fake, extra: &[&str]) -> Output {
    let out = out.display().to_string();
    against_fake(fake, &["upload", &out, "--campaign", CAMPAIGN], extra)
}

#[test]
fn codes_added_to_the_campaign_since_the_read_stop_the_upload_until_refreshed() {
    let (api, download) = project_with_codes(&["OLD-1"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = connected(&out, &api, &["--canary-rows", "0"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    // Two codes went into the campaign since; one of them is a code of the batches.
    api.behaviour().campaign_objects[0]["vouchers_count"] = json!(9);
    download.behaviour().download_codes = Some(vec!["OLD-1".into(), "MD-01".into()]);

    let stopped = upload(&out, &api, &[]);
    assert_eq!(stopped.status.code(), Some(2), "{}", text(&stopped));
    assert_says(&stopped, "holds 9 codes, 2 more");
    assert_says(&stopped, "--refresh-existing");
    assert!(api.posts().is_empty(), "nothing posted");

    let clash = upload(&out, &api, &["--refresh-existing"]);
    assert_eq!(clash.status.code(), Some(2), "{}", text(&clash));
    assert_says(
        &clash,
        "1 code(s) of the batches are in the project now (MD-01)",
    );
    assert!(api.posts().is_empty(), "nothing posted");
    assert!(
        api.exports().values().all(|deleted| *deleted),
        "every export deleted"
    );

    // The two new codes are others: the upload goes on, and says what it checked.
    download.behaviour().download_codes = Some(vec!["OLD-1".into(), "NEW-9".into()]);
    let went = upload(&out, &api, &["--refresh-existing"]);
    assert!(
        went.status.code() == Some(0) || went.status.code() == Some(1),
        "{}",
        text(&went)
    );
    assert_says(&went, "hold none of the batches' codes");
    assert!(!api.posts().is_empty());
}

/// `import INPUT` into the fake's campaign, fast, with `extra` arguments.
fn import(input: &str, out: &Path, fake: &Fake, extra: &[&str]) -> Output {
    let out = out.display().to_string();
    against_fake(
        fake,
        &["import", input, "--campaign", CAMPAIGN, "--out", &out],
        extra,
    )
}

const GIFT_CARDS: &str = "fixtures/sample/gift_cards.csv";

#[test]
fn import_goes_from_a_file_to_verified_codes_and_resumes() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = import(GIFT_CARDS, &out, &fake, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    // One summary of both halves: the rows rejected locally, the codes imported.
    let said = text(&run);
    let s = summary(&out);
    let rows_line = format!(
        "{} read, {} accepted, {} rejected locally",
        s["input_rows"], s["accepted"], s["rejected"]
    );
    assert!(said.contains(&rows_line), "{said}");
    assert!(said.contains("imported, 0 failed at Voucherify"), "{said}");
    assert_eq!(s["project"]["campaign"], CAMPAIGN);
    let posted = fake.posts().len();
    assert!(posted >= 1);
    let state: Value = serde_json::from_slice(&fs::read(out.join("upload.json")).unwrap()).unwrap();
    assert!(state["batches"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["status"] == "DONE"));
    // Run again: the upload resumes, nothing is posted twice.
    let again = import(GIFT_CARDS, &out, &fake, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_says(&again, "the upload resumes");
    assert_eq!(fake.posts().len(), posted);
}

#[test]
fn import_stops_at_the_canary_when_the_project_reads_amounts_otherwise() {
    let fake = Fake::start();
    fake.behaviour().storing = super::fake::Storing::AmountsTimes100;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = import(GIFT_CARDS, &out, &fake, &["--max-file-bytes", "300"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert_eq!(fake.posts().len(), 1, "the canary alone: {}", text(&run));
}

#[test]
fn import_dry_run_prepares_and_posts_nothing() {
    let fake = Fake::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = import(GIFT_CARDS, &out, &fake, &["--dry-run"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    assert!(out.join("summary.json").exists());
    assert!(fake.posts().is_empty());
}

#[test]
fn management_keys_give_the_projects_time_zone_and_case_rule_and_without_them_a_note() {
    use super::fake::{MANAGEMENT_ID, MANAGEMENT_TOKEN};
    let fake = project();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = Command::new(BIN)
        .args(["prepare", CARDS, "--out", &out.display().to_string()])
        .args([
            "--project-campaign",
            CAMPAIGN,
            "--api-url",
            &fake.url,
            "--project-id",
            "proj_test",
        ])
        .env("VOUCHERIFY_APP_ID", APP_ID)
        .env("VOUCHERIFY_APP_TOKEN", TOKEN)
        .env("VOUCHERIFY_MANAGEMENT_APP_ID", MANAGEMENT_ID)
        .env("VOUCHERIFY_MANAGEMENT_APP_TOKEN", MANAGEMENT_TOKEN)
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let s = summary(&out);
    assert_eq!(s["options"]["dates_in"], "Europe/Warsaw");
    assert_eq!(s["options"]["case_insensitive_codes"], true);
    assert_eq!(s["project"]["settings"]["timezone"], "Europe/Warsaw");
    let notes = s["notes"].to_string();
    assert!(
        notes.contains("the project's time zone, Europe/Warsaw"),
        "{notes}"
    );
    assert!(notes.contains("compared ignoring case"), "{notes}");
    let management: Vec<_> = fake
        .log()
        .into_iter()
        .filter(|l| l.path.starts_with("/management/"))
        .collect();
    assert_eq!(management.len(), 1);
    assert_eq!(management[0].path, "/management/v1/projects/proj_test");
    assert_eq!(
        management[0].header("X-Management-Token"),
        Some(MANAGEMENT_TOKEN)
    );
    assert_eq!(
        management[0].header("X-App-Token"),
        None,
        "the app token stays home"
    );
    for (name, bytes) in files_below(&out) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(MANAGEMENT_TOKEN),
            "{name}"
        );
    }

    // Without the keys: a note of what was assumed.
    let plain = dir.path().join("plain");
    let run = connected(&plain, &fake, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let notes = summary(&plain)["notes"].to_string();
    assert!(
        notes.contains("were not read (they need Management API keys"),
        "{notes}"
    );
}

#[test]
fn keep_existing_keeps_the_exports_codes_for_an_offline_run() {
    let (api, _download) = project_with_codes(&["MD-01", "OTHER-2"]);
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let run = connected(&first, &api, &["--keep-existing"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let kept = fs::read(first.join("project/existing-codes.csv")).unwrap();
    assert_eq!(
        summary(&first)["project"]["existing"]["sha256"],
        crate::util::sha256_hex(&kept)
    );
    drop(api);
    // Offline: the same verdicts, MD-01 rejected as already in the project.
    let again = dir.path().join("again");
    let run = prepare(
        &again,
        &["--project-snapshot", &first.display().to_string()],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    let verdicts = |out: &Path| -> Vec<(String, String)> {
        crate::util::csv_records(&fs::read(out.join("rejected.csv")).unwrap())
            .into_iter()
            .map(|r| (r[1].clone(), r[3].clone()))
            .collect()
    };
    assert_eq!(verdicts(&first), verdicts(&again));
    assert!(verdicts(&again)
        .iter()
        .any(|(_, rules)| rules == "existing_code"));
    let (a, b) = (files_below(&first), files_below(&again));
    for name in a.keys().filter(|n| n.starts_with("import/")) {
        assert_eq!(a[name], b[name], "{name}");
    }
    assert!(summary(&again)["notes"]
        .to_string()
        .contains("the snapshot kept from the export"));
    // Without --keep-existing the folder holds no codes, and the offline run says so.
    let (api, _download) = project_with_codes(&["MD-01"]);
    let plain = dir.path().join("plain");
    let run = connected(&plain, &api, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(!plain.join("project/existing-codes.csv").exists());
    let offline = dir.path().join("offline");
    let run = prepare(
        &offline,
        &["--project-snapshot", &plain.display().to_string()],
    );
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(summary(&offline)["notes"]
        .to_string()
        .contains("--keep-existing keeps them"));
}
