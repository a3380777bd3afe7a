//! What a run tells people: report.html read as HTML, the summary as JSON on stdout, and the
//! stderr summary with the first example of every rule.

use std::fs;

use scraper::{Html, Selector};
use serde_json::Value;

use crate::util::run;

const SAMPLE: [&str; 8] = [
    "prepare",
    "fixtures/sample/gift_cards.csv",
    "--campaign-type",
    "gift",
    "--existing",
    "fixtures/sample/existing_codes.csv",
    "--out",
    "{out}",
];

fn select<'a>(page: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    page.select(&Selector::parse(css).unwrap()).collect()
}

fn text(element: &scraper::ElementRef<'_>) -> String {
    element.text().collect::<String>().trim().to_owned()
}

#[test]
fn report_html_shows_totals_rules_examples_and_batches() {
    let r = run(&SAMPLE);
    r.expect_code(1);
    let summary: Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    let html = fs::read_to_string(r.out().join("report.html")).unwrap();
    let page = Html::parse_document(&html);
    assert!(page.errors.is_empty(), "{:?}", page.errors);

    // Self-contained: no script, no external asset, nothing fetched.
    assert!(select(&page, "script, link, img, iframe").is_empty());
    assert!(!html.contains("http://") && !html.contains("https://"));

    // Totals.
    for (class, key) in [
        ("read", "input_rows"),
        ("accepted", "accepted"),
        ("rejected", "rejected"),
    ] {
        let total = &select(&page, &format!("b[data-total={class}]"))[0];
        assert_eq!(text(total), summary[key].to_string(), "{class}");
    }

    // One bar per rule that rejected rows, with its count, and one section per rule.
    let fired: Vec<(String, u64)> = summary["rejected_by_rule"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(rule, n)| (rule.clone(), n.as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let counts = select(&page, "#chart .count");
    assert_eq!(counts.len(), fired.len());
    for (rule, n) in &fired {
        let count = counts
            .iter()
            .find(|c| c.value().attr("data-rule") == Some(rule.as_str()))
            .unwrap_or_else(|| panic!("no bar for {rule}"));
        assert_eq!(text(count), n.to_string());
        let section = &select(&page, &format!("section#rule-{rule}"))[0];
        let rows = section
            .select(&Selector::parse("table.examples tbody tr").unwrap())
            .count();
        assert_eq!(rows as u64, (*n).min(20), "{rule}");
    }

    // The offending value is highlighted: Active 'yes' in the active_boolean example.
    let marked: Vec<String> = select(&page, "section#rule-active_boolean mark")
        .iter()
        .map(text)
        .collect();
    assert!(marked.contains(&"yes".to_owned()), "{marked:?}");
    // A malformed record shows its raw text, highlighted.
    assert_eq!(select(&page, "section#rule-malformed_record mark").len(), 1);
    // A value a spreadsheet would run as a formula is shown with a ' in front.
    let quantities: Vec<String> = select(&page, "section#rule-invalid_number td")
        .iter()
        .map(text)
        .collect();
    assert!(quantities.contains(&"'-1".to_owned()), "{quantities:?}");

    // Batches as in summary.json.
    let batch_rows = select(&page, "#batches tbody tr");
    let batches = summary["batches"].as_array().unwrap();
    assert_eq!(batch_rows.len(), batches.len());
    assert!(text(&batch_rows[0]).contains(batches[0]["sha256"].as_str().unwrap()));

    // The campaign and options used.
    let options = text(&select(&page, "#options")[0]);
    assert!(options.contains("campaign_limit"), "{options}");
}

#[test]
fn json_puts_the_summary_on_stdout() {
    let mut args = SAMPLE.to_vec();
    args.push("--json");
    let r = run(&args);
    r.expect_code(1);
    let printed: Value = serde_json::from_str(&r.stdout()).unwrap();
    let written: Value =
        serde_json::from_slice(&fs::read(r.out().join("summary.json")).unwrap()).unwrap();
    assert_eq!(printed, written);
    assert_eq!(printed["accepted"], 10);
    // The human summary still goes to stderr; --quiet silences it.
    assert!(r.stderr().contains("accepted"));
    args.push("--quiet");
    let quiet = run(&args);
    quiet.expect_code(1);
    assert_eq!(quiet.stderr(), "");
    assert!(serde_json::from_str::<Value>(&quiet.stdout()).is_ok());
}

#[test]
fn the_stderr_summary_gives_each_rule_its_first_example_and_the_batches() {
    let r = run(&SAMPLE);
    let stderr = r.stderr();
    assert!(
        stderr.contains("  active_boolean               2  row 9: Active 'yes' is not true/false"),
        "{stderr}"
    );
    assert!(
        stderr.contains("batches\n  import/part-00001.csv"),
        "{stderr}"
    );
}

#[test]
fn rejected_csv_fixed_in_a_spreadsheet_goes_straight_back_in() {
    let first = run(&SAMPLE);
    first.expect_code(1);
    let rejected_path = first.out().join("rejected.csv");
    let mut reader = csv::Reader::from_path(&rejected_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (rules, active) = (column("rules"), column("Active"));
    // The colleague fixes the Active cells and nothing else, as a spreadsheet saves it.
    let mut fixed = csv::Writer::from_writer(Vec::new());
    fixed.write_record(&header).unwrap();
    let mut rows = 0;
    for record in reader.records() {
        let mut record: Vec<String> = record.unwrap().iter().map(String::from).collect();
        if record[rules] == "active_boolean" {
            record[active] = "true".into();
        }
        fixed.write_record(&record).unwrap();
        rows += 1;
    }
    let fixed_path = first.dir.path().join("rejected-fixed.csv");
    fs::write(&fixed_path, fixed.into_inner().unwrap()).unwrap();

    // The codes the first run accepted are in the project now: they are passed as existing.
    let first_batch = first.out().join("import/part-00001.csv");
    let second = run(&[
        "prepare",
        &fixed_path.display().to_string(),
        "--campaign-type",
        "gift",
        "--existing",
        "fixtures/sample/existing_codes.csv",
        "--existing",
        &first_batch.display().to_string(),
        "--out",
        "{out}",
    ]);
    second.expect_code(1);
    crate::util::assert_conserved(&second.out(), rows);
    let summary: Value =
        serde_json::from_slice(&fs::read(second.out().join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["accepted"], 1,
        "the one row whose only fault was Active"
    );
    assert_eq!(summary["rejected_by_rule"]["existing_code"], 2, "{summary}");
    // The cell shown as caf\u{FFFD} still needs fixing.
    assert_eq!(
        summary["rejected_by_rule"]["invalid_encoding"], 1,
        "{summary}"
    );
    assert!(
        summary["notes"][0]
            .as_str()
            .unwrap()
            .contains("is a rejected.csv"),
        "{summary}"
    );
    // The report columns are not taken for data: the new rejected.csv has them once.
    let again = fs::read_to_string(second.out().join("rejected.csv")).unwrap();
    let new_header = again.lines().next().unwrap();
    assert_eq!(new_header.matches("reason").count(), 1, "{new_header}");
    assert_eq!(new_header.matches("raw").count(), 1, "{new_header}");
    // '-1 (shown safely) is read back as -1, and shown safely again.
    assert!(
        again.contains("Redeemed Quantity '-1' is not a non-negative whole number"),
        "{again}"
    );
    assert!(again.contains(",'-1,"), "{again}");
}
