//! The reference size: every measure on 1,000,000 records with 8 keys (docs/BENCHMARKS.md).
//!
//! `cargo test -p baraza-sdc --release -- --ignored --nocapture timing_assess`
//!
//! With `SDC_BIG_CSV=path`, the same records are also written there as CSV (the file the
//! whole-process figure of `baraza sdc risk` is measured on).

use crate::pram::SplitMix64;
use crate::*;
use std::time::{Duration, Instant};

/// The keys and their numbers of categories: 2 to 17.
const KEYS: [(&str, u64); 8] = [
    ("region", 12),
    ("sex", 2),
    ("age_group", 17),
    ("household_size", 10),
    ("occupation", 15),
    ("education", 6),
    ("marital_status", 5),
    ("religion", 4),
];

/// One record: its key codes (`None`: missing), weight, household and sensitive value.
type Record = ([Option<u64>; 8], f64, usize, u64);

/// `n` records drawn with a fixed seed: categories drawn unevenly (a rough Zipf law, so that
/// common and rare combinations mix; sex evenly), 1% of the occupations missing, weights
/// between 50 and 500, households of four, one sensitive variable of 3 values.
fn records(n: usize, seed: u64) -> Vec<Record> {
    let mut rng = SplitMix64::new(seed);
    let mut uniform = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    (0..n)
        .map(|i| {
            let mut keys = [None; 8];
            for (j, (_, card)) in KEYS.iter().enumerate() {
                let u = uniform();
                keys[j] = Some(if *card == 2 {
                    u64::from(u < 0.5)
                } else {
                    ((*card as f64).powf(u) - 1.0) as u64 % card
                });
            }
            if uniform() < 0.01 {
                keys[4] = None;
            }
            let weight = 50.0 + 450.0 * uniform();
            let sensitive = (uniform() * 3.0) as u64 % 3;
            (keys, weight, i / 4, sensitive)
        })
        .collect()
}

/// A category as written in the file: the key's initial and the code (`r7`, `a12`).
fn label(key: &str, code: u64) -> String {
    format!("{}{code}", &key[..1])
}

fn table(records: &[Record]) -> KeyTable {
    let names: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    let labels: Vec<Vec<String>> = KEYS
        .iter()
        .map(|(k, card)| (0..*card).map(|c| label(k, c)).collect())
        .collect();
    let diseases = ["none", "malaria", "tb"];
    let mut b = TableBuilder::new(&names, Some("weight"), Some("household"), &["health"]).unwrap();
    let mut household = String::new();
    for (i, (keys, weight, h, s)) in records.iter().enumerate() {
        let keys: Vec<Option<&str>> = keys
            .iter()
            .zip(&labels)
            .map(|(c, l)| c.map(|c| l[c as usize].as_str()))
            .collect();
        household.clear();
        use std::fmt::Write as _;
        let _ = write!(household, "h{h}");
        b.push(Row {
            number: i + 2,
            keys: &keys,
            weight: Some(*weight),
            household: Some(&household),
            sensitive: &[Some(diseases[*s as usize])],
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn write_csv(path: &str, records: &[Record]) {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let names: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    writeln!(out, "{},weight,household,health", names.join(",")).unwrap();
    let diseases = ["none", "malaria", "tb"];
    for (keys, weight, h, s) in records {
        for (c, (k, _)) in keys.iter().zip(KEYS) {
            match c {
                Some(c) => write!(out, "{},", label(k, *c)).unwrap(),
                None => write!(out, ",").unwrap(),
            }
        }
        writeln!(out, "{weight:.2},h{h},{}", diseases[*s as usize]).unwrap();
    }
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.unwrap())
}

#[test]
#[ignore]
fn timing_assess_1m_records_8_keys() {
    let records = records(1_000_000, 2026);
    if let Ok(path) = std::env::var("SDC_BIG_CSV") {
        write_csv(&path, &records);
        println!("written to {path}");
    }
    let (took, t) = best_of(1, || table(&records));
    println!("table built from text: {took:?}");
    let runs = 3;
    let options = Options {
        per_record: false,
        ..Options::default()
    };
    let (took, a) = best_of(runs, || assess(&t, &options).unwrap());
    let suda = a.suda.as_ref().unwrap();
    println!(
        "assess, everything (best of {runs}): {took:?}; {} combinations, {} records with a missing key, {} sample uniques, {} special uniques, MSUs by size {:?}",
        a.combinations,
        a.records_with_missing_keys,
        suda.sample_uniques,
        suda.special_uniques,
        suda.msus_by_size
    );
    let (took, f) = best_of(runs, || frequencies(&t, MissingMode::Any));
    println!("  fk/Fk, missing matching any category: {took:?}");
    let (took, risks) = best_of(runs, || {
        f.fk.iter()
            .zip(&f.big_fk)
            .map(|(&fk, &big)| individual_risk(fk, big, true))
            .collect::<Vec<f64>>()
    });
    println!("  individual risk: {took:?}");
    let (took, _) = best_of(runs, || risk::household(&t, &risks));
    println!("  household risk: {took:?}");
    let (took, _) = best_of(runs, || risk::k_anonymity(&f, &options.k));
    println!("  k-anonymity: {took:?}");
    let (took, _) = best_of(runs, || risk::global(&risks));
    println!("  global risk: {took:?}");
    let (took, _) = best_of(runs, || risk::riskiest(&t, &f, &risks, 10));
    println!("  riskiest combinations: {took:?}");
    let (took, _) = best_of(runs, || ldiv::l_diversity(&t, &f.cell, f.cells, 2.0));
    println!("  l-diversity: {took:?}");
    let (took, _) = best_of(runs, || suda::suda(&t, 3, 0.01, false));
    println!("  SUDA up to 3 keys: {took:?}");
    let (took, _) = best_of(runs, || {
        assess(
            &t,
            &Options {
                per_record: true,
                ..Options::default()
            },
        )
        .unwrap()
    });
    println!("assess with every record's measures kept: {took:?}");
}
