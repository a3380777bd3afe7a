//! Throughput of each pipeline stage and of the whole run, in bytes of input per second.
//!
//! The data is generated once per run from a fixed seed (gift cards with about 2% defects, the
//! shape `benches/gen_vouchers.py` writes) and never committed. Run with
//! `cargo bench --bench stages`; set `VOUCHER_BENCH_ROWS` to change the size (default 100000).

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Cursor;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datafusion::arrow::array::{AsArray, StringArray};
use voucher_import::stages::{
    headers, values, Chunk, Dedup, EncodedRows, OpenInput, RuleEngine, TableLayout,
};
use voucher_import::{
    AmountUnit, CampaignType, CheckSink, HeaderOptions, Import, NoProgress, Normalizations,
    ReadOptions, RuleSet,
};

fn generate(rows: usize) -> Vec<u8> {
    let mut state: u64 = 47;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let regions = ["EU", "US", "APAC", "LATAM", "Zürich", "São Paulo"];
    let notes = [
        "",
        "plain",
        "\"has, comma\"",
        "\"has \"\"quotes\"\"\"",
        "\"two\nlines\"",
        "ünïcödé ✓",
    ];
    let mut out = String::from(
        "Code,Active,Category,Gift Amount,Redeemed Amount,Redeemed Quantity,region,tier,issued_on,priority,vip,note\n",
    );
    for row in 0..rows {
        let r = next();
        let code: String = if r % 50 == 0 {
            format!("GC{:08}", (row / 2))
        } else {
            format!("GC{:08X}{:04}", r as u32, row % 10_000)
        };
        let active = if r % 97 == 0 {
            "yes"
        } else {
            ["true", "false", "TRUE"][(r % 3) as usize]
        };
        let gift = 100 + r % 100_000;
        let _ = writeln!(
            out,
            "{code},{active},summer,{gift},{},{},{},gold,2026-{:02}-{:02},{},true,{}",
            if r % 3 == 0 { gift / 2 } else { 0 },
            r % 5,
            regions[(r % 6) as usize],
            1 + r % 12,
            1 + r % 28,
            r % 100,
            notes[(r % 6) as usize]
        );
    }
    out.into_bytes()
}

fn chunks_of(data: &[u8]) -> (TableLayout, Vec<Chunk>) {
    let input = OpenInput::from_reader(
        0,
        "bench.csv",
        Box::new(Cursor::new(data.to_vec())),
        &ReadOptions::default(),
    )
    .unwrap();
    let roles = headers::classify(
        Path::new("bench.csv"),
        &input.header,
        CampaignType::GiftVouchers,
        &HeaderOptions::default(),
    )
    .unwrap();
    let layout = TableLayout::new(&[(input.header.clone(), roles)]);
    let mut chunks = Vec::new();
    input
        .read_records(|c| {
            chunks.push(c);
            true
        })
        .unwrap();
    (layout, chunks)
}

fn stages(c: &mut Criterion) {
    let rows: usize = std::env::var("VOUCHER_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let data = generate(rows);
    let bytes = data.len() as u64;
    let (layout, chunks) = chunks_of(&data);
    let mut counts = Normalizations::default();
    let batches: Vec<_> = chunks
        .iter()
        .map(|c| values::to_batch(c, &layout, &mut counts).unwrap())
        .collect();
    let rules = RuleSet::builtin().unwrap();
    let engine = RuleEngine::compile(
        &rules,
        layout.schema.clone(),
        &layout.present_columns(),
        AmountUnit::Minor,
    )
    .unwrap();

    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));

    group.bench_function("read", |b| {
        b.iter(|| {
            let input = OpenInput::from_reader(
                0,
                "bench.csv",
                Box::new(Cursor::new(data.clone())),
                &ReadOptions::default(),
            )
            .unwrap();
            let mut records = 0;
            input
                .read_records(|c| {
                    records += c.records.len();
                    true
                })
                .unwrap();
            black_box(records)
        })
    });
    group.bench_function("normalize", |b| {
        b.iter(|| {
            let mut counts = Normalizations::default();
            for chunk in &chunks {
                black_box(values::to_batch(chunk, &layout, &mut counts).unwrap());
            }
        })
    });
    group.bench_function("rules", |b| {
        b.iter(|| {
            for batch in &batches {
                let skip = vec![false; batch.num_rows()];
                black_box(engine.evaluate(batch, &skip).unwrap());
            }
        })
    });
    let codes: Vec<String> = chunks
        .iter()
        .flat_map(|c| {
            c.records
                .iter()
                .map(|r| String::from_utf8_lossy(&r.fields[0]).into_owned())
        })
        .collect();
    // As the pipeline does it: the workers hash the codes ahead (in parallel, not timed here
    // apart from the hashing), the finisher reserves the table once per file, prefetches a few
    // rows ahead, probes with the hash, admits, and looks for a case variant.
    group.bench_function("dedup", |b| {
        b.iter(|| {
            let mut dedup = Dedup::new(false, u64::MAX, 0);
            let hasher = dedup.hasher();
            let hashes: Vec<u64> = codes.iter().map(|c| hasher.hash(c)).collect();
            dedup.reserve(codes.len(), 11);
            for (row, code) in codes.iter().enumerate() {
                if let Some(&ahead) = hashes.get(row + 8) {
                    dedup.prefetch(ahead);
                }
                if dedup.clash_hashed(code, hashes[row]).is_none() {
                    let _ = dedup.case_variant(code);
                    let _ = dedup.admit_hashed(Some((code, hashes[row])), 0, row as u64 + 1);
                }
            }
            black_box(dedup)
        })
    });
    // As the pipeline encodes: every row of each normalized batch at once, in batch column
    // order (the workers do this; the finisher only copies accepted rows).
    let columns: Vec<usize> = (0..layout.value_columns()).collect();
    group.bench_function("write", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for batch in &batches {
                let arrays: Vec<&StringArray> = columns
                    .iter()
                    .map(|&c| batch.column(c).as_string::<i32>())
                    .collect();
                let encoded = EncodedRows::encode(&arrays, &[]);
                bytes += (0..batch.num_rows())
                    .map(|i| encoded.row(i).len())
                    .sum::<usize>();
            }
            black_box(bytes)
        })
    });

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.csv");
    std::fs::write(&path, &data).unwrap();
    let resolved = Import::new(CampaignType::GiftVouchers)
        .campaign_limit(u64::MAX)
        .input(&path)
        .resolve()
        .unwrap();
    group.bench_function("pipeline (check, all stages)", |b| {
        b.iter(|| {
            let mut sink = CheckSink::new();
            black_box(resolved.run(&NoProgress, &mut sink).unwrap().accepted)
        })
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
