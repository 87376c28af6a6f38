//! Property tests: the fast computations against the definitions, computed naively.

use crate::*;
use proptest::prelude::*;

/// A random table: up to 40 records, 1 to 5 keys of up to 3 categories, some values missing,
/// weights between 1 and 10 when asked.
fn tables() -> impl Strategy<Value = (Vec<Vec<Option<u8>>>, Option<Vec<f64>>)> {
    (1usize..=5, 1usize..=40, any::<bool>()).prop_flat_map(|(m, n, weighted)| {
        let cell = prop_oneof![4 => (0u8..3).prop_map(Some), 1 => Just(None)];
        let rows = proptest::collection::vec(proptest::collection::vec(cell, m), n);
        let weights = if weighted {
            proptest::collection::vec(1.0f64..10.0, n)
                .prop_map(Some)
                .boxed()
        } else {
            Just(None).boxed()
        };
        (rows, weights)
    })
}

fn build(rows: &[Vec<Option<u8>>], weights: Option<&[f64]>) -> KeyTable {
    let names: Vec<String> = (0..rows[0].len()).map(|j| format!("k{j}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut b = TableBuilder::new(&names, weights.map(|_| "w"), None, &[]).unwrap();
    let text: Vec<Vec<Option<String>>> = rows
        .iter()
        .map(|r| r.iter().map(|v| v.map(|v| v.to_string())).collect())
        .collect();
    for (i, r) in text.iter().enumerate() {
        let keys: Vec<Option<&str>> = r.iter().map(|v| v.as_deref()).collect();
        b.push(Row {
            number: i + 1,
            keys: &keys,
            weight: weights.map(|w| w[i]),
            household: None,
            sensitive: &[],
        })
        .unwrap();
    }
    b.finish().unwrap()
}

fn compatible(a: &[Option<u8>], b: &[Option<u8>]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| x.is_none() || y.is_none() || x == y)
}

/// Unique on the keys of `set`, with no missing value there.
fn unique_on(rows: &[Vec<Option<u8>>], r: usize, set: u64) -> bool {
    let on = |j: usize| set & (1 << j) != 0;
    if (0..rows[r].len()).any(|j| on(j) && rows[r][j].is_none()) {
        return false;
    }
    rows.iter()
        .enumerate()
        .filter(|(i, other)| *i != r && (0..other.len()).all(|j| !on(j) || other[j] == rows[r][j]))
        .count()
        == 0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn frequencies_match_their_definition((rows, weights) in tables()) {
        let t = build(&rows, weights.as_deref());
        let any = frequencies(&t, MissingMode::Any);
        let cat = frequencies(&t, MissingMode::Category);
        for (i, r) in rows.iter().enumerate() {
            let w = |j: usize| weights.as_ref().map_or(1.0, |w| w[j]);
            let matching: Vec<usize> = (0..rows.len()).filter(|&j| compatible(r, &rows[j])).collect();
            prop_assert_eq!(any.fk[i] as usize, matching.len());
            let big: f64 = matching.iter().map(|&j| w(j)).sum();
            prop_assert!((any.big_fk[i] - big).abs() < 1e-9);
            let same: Vec<usize> = (0..rows.len()).filter(|&j| rows[j] == *r).collect();
            prop_assert_eq!(cat.fk[i] as usize, same.len());
            prop_assert!(cat.fk[i] >= 1);
            prop_assert!(any.fk[i] >= cat.fk[i]);
        }
    }

    #[test]
    fn risks_are_probabilities((rows, weights) in tables(), mode in prop_oneof![Just(MissingMode::Any), Just(MissingMode::Category)]) {
        let t = build(&rows, weights.as_deref());
        let a = assess(&t, &Options { missing: mode, k: vec![1, 2, 3, 5], ..Options::default() }).unwrap();
        for r in &a.per_record {
            prop_assert!(r.fk >= 1);
            prop_assert!((0.0..=1.0).contains(&r.risk), "risk {}", r.risk);
            let d = r.dis_suda_score.unwrap();
            prop_assert!((0.0..=1.0).contains(&d), "dis {}", d);
        }
        prop_assert!((0.0..=1.0).contains(&a.global.share));
        // Nobody violates 1-anonymity; violations grow with k.
        prop_assert_eq!(a.k_anonymity[0].records, 0);
        for w in a.k_anonymity.windows(2) {
            prop_assert!(w[0].records <= w[1].records);
        }
    }

    #[test]
    fn suda_msus_are_exactly_the_minimal_uniques((rows, _) in tables(), max_size in 1usize..=5) {
        let t = build(&rows, None);
        let m = rows[0].len();
        let s = suda::suda(&t, max_size, 0.01, true);
        for (r, found) in s.msus.iter().enumerate() {
            let mut want = Vec::new();
            for set in 1u64..(1 << m) {
                if set.count_ones() as usize > max_size || !unique_on(&rows, r, set) {
                    continue;
                }
                // Minimal: no proper non-empty subset is unique.
                let mut sub = (set - 1) & set;
                let mut minimal = true;
                while sub != 0 {
                    if unique_on(&rows, r, sub) {
                        minimal = false;
                        break;
                    }
                    sub = (sub - 1) & set;
                }
                if minimal {
                    want.push(set);
                }
            }
            let mut got = found.clone();
            got.sort_unstable();
            prop_assert_eq!(got, want, "record {}", r);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The median by selection is the median of the sorted values.
    #[test]
    fn median_is_that_of_the_sorted_values(v in proptest::collection::vec(prop_oneof![0.0f64..1.0, Just(0.5), Just(-0.0), Just(0.0)], 1..60)) {
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let want = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        prop_assert_eq!(risk::median(v).to_bits(), want.to_bits());
    }

    /// The riskiest combinations, selected, are the first ones of the whole sorted order.
    #[test]
    fn riskiest_are_the_first_in_order((rows, weights) in tables(), limit in 0usize..12) {
        let t = build(&rows, weights.as_deref());
        let f = frequencies(&t, MissingMode::Any);
        let risks: Vec<f64> = f.fk.iter().zip(&f.big_fk)
            .map(|(&fk, &big)| individual_risk(fk, big, weights.is_some()))
            .collect();
        let got = risk::riskiest(&t, &f, &risks, limit);
        // Every cell by its first record, sorted by decreasing risk, then fk, then first record.
        let mut first: Vec<usize> = (0..t.rows()).filter(|&i| f.cell[..i].iter().all(|&c| c != f.cell[i])).collect();
        first.sort_by(|&a, &b| risks[b].total_cmp(&risks[a]).then(f.fk[a].cmp(&f.fk[b])).then(a.cmp(&b)));
        let want: Vec<Vec<Option<String>>> = first.iter().take(limit)
            .map(|&r| (0..t.width()).map(|j| t.value(r, j).map(str::to_owned)).collect())
            .collect();
        let got: Vec<Vec<Option<String>>> = got.into_iter().map(|c| c.values).collect();
        prop_assert_eq!(got, want);
    }
}
