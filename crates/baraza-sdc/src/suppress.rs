//! Local suppression that guarantees k-anonymity.
//!
//! # What it does
//!
//! A record whose combination of keys is shared by fewer than `k` records (its `fk`, with a
//! missing value matching any category: sdcMicro's convention, [`MissingMode::Any`]) has some of
//! its key values blanked ("suppressed": set to [`MISSING`]) until every record of the table
//! has `fk ≥ k`. Unlike sdcMicro's `localSuppression`, which may stop with violators left, the
//! result is always k-anonymous, or the function says why it cannot be (fewer than `k`
//! records). The counts are of the sample (`fk`); sampling weights are not used, as in
//! sdcMicro's `localSuppression`.
//!
//! # Why it always ends k-anonymous
//!
//! With a missing value matching anything, two records match when they agree on every key both
//! have. Blanking a value removes a constraint from the pairs of its record and changes no other
//! pair, so **no record's `fk` ever goes down** when a value is suppressed. A record with every
//! key blanked matches all `n` records. Each round below blanks at least one more key of every
//! record still violating, so after at most `m` rounds (`m` keys) every record either has
//! `fk ≥ k` or has all its keys blanked, hence `fk = n ≥ k`.
//!
//! # Which value is blanked: the importance order
//!
//! As sdcMicro's `importance`, each key has a rank, 1 for the most important (the one least
//! willingly suppressed); by default the key with the fewest categories is the most important
//! (sdcMicro's default too). In each round, for every violating combination (all its records
//! are treated alike), the keys it has are tried from the least important up:
//!
//! 1. the least important key whose blanking alone is *sure* to bring the combination to `k`
//!    is blanked. "Sure" uses a lower bound of the new `fk`: the records equal to the
//!    combination on every other key (a missing value equal to a missing value), whatever
//!    their value of that key;
//! 2. when no single key is sure to be enough, the least important key is blanked and the
//!    combination is looked at again in the next round.
//!
//! So a record unique only because of a rare value of an important key loses that one value,
//! rather than all the less important ones first; and among the keys that would do, the least
//! important is used. The combinations of a round are handled together, so two rare records
//! may both lose a value where one would have been enough: the result is k-anonymous but not
//! the minimal suppression (which is NP-hard).
//!
//! # Cost
//!
//! At most `m + 1` rounds. A round is one computation of the frequencies
//! ([`frequencies`], near linear: `O(n · m + D · C · m + P · C)` for `C` distinct combinations,
//! `P` missing patterns and `D ≤ P²` shared-key sets) and `m` groupings of the `C` combinations
//! on all keys but one (`O(C · m²)`). For 100,000 records and 5 keys it is a fraction of a
//! second in a release build (the ignored test `timing_100k_records_5_keys_k3` measures it);
//! sdcMicro takes hours on 5,000.

use crate::error::SdcError;
use crate::freq::{frequencies, MissingMode};
use crate::hash::group_ids;
use crate::table::{KeyTable, MISSING};
use serde::Serialize;

/// What was suppressed in one key variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuppressedVariable {
    pub variable: String,
    /// The rank used (1 = most important).
    pub importance: u32,
    /// Values blanked by the suppression (values missing before are not counted).
    pub suppressed: usize,
    /// `suppressed` as a share of the records, in [0, 1].
    pub share: f64,
}

/// What [`local_suppression`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuppressionReport {
    pub k: u32,
    pub records: usize,
    /// Records with `fk < k` before.
    pub violators_before: usize,
    /// Records with at least one value blanked.
    pub records_changed: usize,
    /// Values blanked, all keys together.
    pub suppressed: usize,
    /// Rounds of suppression run (0 when the table was already k-anonymous).
    pub rounds: usize,
    /// Per key, in the table's order.
    pub variables: Vec<SuppressedVariable>,
}

/// sdcMicro's default importance: the key with the fewest categories is the most important
/// (rank 1); ties go to the key given first.
pub fn importance_by_categories(table: &KeyTable) -> Vec<u32> {
    let mut order: Vec<usize> = (0..table.width()).collect();
    order.sort_by_key(|&j| (table.keys[j].categories.len(), j));
    let mut rank = vec![0u32; order.len()];
    for (r, &j) in order.iter().enumerate() {
        rank[j] = r as u32 + 1;
    }
    rank
}

/// Blanks key values until every record has `fk ≥ k` (missing values matching any category),
/// honouring `importance` (one rank per key, 1 = most important; `None` for
/// [`importance_by_categories`]). Returns the new table and what was blanked; the input is not
/// changed.
pub fn local_suppression(
    table: &KeyTable,
    k: u32,
    importance: Option<&[u32]>,
) -> Result<(KeyTable, SuppressionReport), SdcError> {
    let m = table.width();
    let n = table.rows();
    if k == 0 {
        return Err(SdcError::ZeroK);
    }
    let rank = match importance {
        Some(r) if r.len() != m => {
            return Err(SdcError::ImportanceWidth {
                expected: m,
                got: r.len(),
            })
        }
        Some(r) => {
            if let Some(j) = r.iter().position(|&x| x == 0) {
                return Err(SdcError::ZeroImportance {
                    variable: table.keys[j].name.clone(),
                });
            }
            r.to_vec()
        }
        None => importance_by_categories(table),
    };
    if (n as u64) < u64::from(k) {
        return Err(SdcError::TooFewRecords { k, records: n });
    }
    // Keys from the least important to the most (higher rank first; among equals, the later).
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by_key(|&j| std::cmp::Reverse((rank[j], j)));

    let mut out = table.clone();
    let mut suppressed = vec![0usize; m];
    let mut changed = vec![false; n];
    let mut violators_before = 0;
    let mut rounds = 0;
    loop {
        let f = frequencies(&out, MissingMode::Any);
        let violating: Vec<bool> = {
            let mut v = vec![false; f.cells as usize];
            for (i, &fk) in f.fk.iter().enumerate() {
                if fk < k {
                    v[f.cell[i] as usize] = true;
                }
            }
            v
        };
        if rounds == 0 {
            violators_before = f.fk.iter().filter(|&&fk| fk < k).count();
        }
        if !violating.iter().any(|&v| v) {
            break;
        }
        // The proof above bounds the rounds by m; a last check keeps a bug from looping.
        if rounds > m {
            break;
        }
        rounds += 1;
        let choice = choose(&out, &f.cell, f.cells as usize, &violating, &order, k);
        for (i, (&c, changed)) in f.cell.iter().zip(changed.iter_mut()).enumerate() {
            if let Some(j) = choice[c as usize] {
                out.codes[i * m + j] = MISSING;
                out.missing[i] |= 1 << j;
                suppressed[j] += 1;
                *changed = true;
            }
        }
    }
    let report = SuppressionReport {
        k,
        records: n,
        violators_before,
        records_changed: changed.iter().filter(|&&c| c).count(),
        suppressed: suppressed.iter().sum(),
        rounds,
        variables: (0..m)
            .map(|j| SuppressedVariable {
                variable: table.keys[j].name.clone(),
                importance: rank[j],
                suppressed: suppressed[j],
                share: suppressed[j] as f64 / n as f64,
            })
            .collect(),
    };
    Ok((out, report))
}

/// The key to blank in each violating cell (see the module's documentation), `None` elsewhere.
fn choose(
    table: &KeyTable,
    cell: &[u32],
    cells: usize,
    violating: &[bool],
    order: &[usize],
    k: u32,
) -> Vec<Option<usize>> {
    let m = table.width();
    // Each cell's codes and record count.
    let mut codes = vec![0u32; cells * m];
    let mut count = vec![0u32; cells];
    for (i, &c) in cell.iter().enumerate() {
        let c = c as usize;
        if count[c] == 0 {
            codes[c * m..(c + 1) * m].copy_from_slice(&table.codes[i * m..(i + 1) * m]);
        }
        count[c] += 1;
    }
    // bound[j][c]: records equal to cell c on every key but j.
    let mut bound: Vec<Vec<u32>> = Vec::with_capacity(m);
    for j in 0..m {
        let others: Vec<usize> = (0..m).filter(|&x| x != j).collect();
        let (ids, groups) = group_ids(&codes, m, cells, &others);
        let mut sum = vec![0u32; groups as usize];
        for c in 0..cells {
            sum[ids[c] as usize] += count[c];
        }
        bound.push(ids.iter().map(|&g| sum[g as usize]).collect());
    }
    (0..cells)
        .map(|c| {
            if !violating[c] {
                return None;
            }
            let present = order
                .iter()
                .copied()
                .filter(|&j| codes[c * m + j] != MISSING);
            let mut least = None;
            for j in present {
                least.get_or_insert(j);
                if bound[j][c] >= k {
                    return Some(j);
                }
            }
            least
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::{table, table_of_codes};

    #[test]
    fn cases() {
        let (a, b, c) = (Some("a"), Some("b"), Some("c"));
        let (x, y, z) = (Some("x"), Some("y"), Some("z"));
        // (name, rows, k, importance, expected rows after, suppressed per key)
        type Case<'a> = (
            &'a str,
            Vec<Vec<Option<&'a str>>>,
            u32,
            Option<Vec<u32>>,
            Vec<Vec<Option<&'a str>>>,
            Vec<usize>,
        );
        let cases: Vec<Case> = vec![
            (
                "already 2-anonymous: nothing to do",
                vec![vec![a, x], vec![a, x], vec![b, y], vec![b, y]],
                2,
                None,
                vec![vec![a, x], vec![a, x], vec![b, y], vec![b, y]],
                vec![0, 0],
            ),
            // Record 3 (b, x) is unique. Blanking key 1 gives (b, *), equal on key 0 to nobody
            // else but itself: bound 1. Blanking key 0 gives (*, x), equal on key 1 to records
            // 1 and 2: bound 3 ≥ 2. Key 0 is the least important (rank 2) and sure: blanked.
            (
                "the least important sure key is blanked",
                vec![vec![a, x], vec![a, x], vec![b, x]],
                2,
                Some(vec![2, 1]),
                vec![vec![a, x], vec![a, x], vec![None, x]],
                vec![1, 0],
            ),
            // Same table, key 0 the most important: key 1 is tried first but is not sure
            // (bound 1); key 0 is sure (bound 3): key 0 is blanked all the same, one value
            // rather than two.
            (
                "a sure important key beats two suppressions",
                vec![vec![a, x], vec![a, x], vec![b, x]],
                2,
                Some(vec![1, 2]),
                vec![vec![a, x], vec![a, x], vec![None, x]],
                vec![1, 0],
            ),
            // Three records differing on both keys, k = 2. Round 1: no key is sure for any of
            // them (every bound is 1), so the least important, key 1, is blanked in all three:
            // (a,*), (b,*), (c,*), still unique. Round 2: key 0 is left and blanked: all
            // (*,*), fk = 3.
            (
                "no sure key: least important first, then the next",
                vec![vec![a, x], vec![b, y], vec![c, z]],
                2,
                Some(vec![1, 2]),
                vec![vec![None, None], vec![None, None], vec![None, None]],
                vec![3, 3],
            ),
            // (a,x), (b,y), (c,x): blanking key 0 of record 1 gives (*, x), equal on key 1 to
            // record 3: bound 2, sure; the same for record 3. Record 2 has no sure key (bounds
            // 1 and 1) and loses key 1, the least important: (b, *), which matches everyone
            // after the round: fk = 3, 3, 3.
            (
                "sure and unsure combinations in one round",
                vec![vec![a, x], vec![b, y], vec![c, x]],
                2,
                Some(vec![1, 2]),
                vec![vec![None, x], vec![b, None], vec![None, x]],
                vec![2, 1],
            ),
            // (a, x) twice, (a, y) once, k = 2. Record 3: blanking key 1 gives (a, *): bound
            // 3. Key 1 has 2 categories, key 0 has 1: by default key 0 is the most important,
            // so key 1 is tried first and is sure.
            (
                "default importance: more categories, less important",
                vec![vec![a, x], vec![a, x], vec![a, y]],
                2,
                None,
                vec![vec![a, x], vec![a, x], vec![a, None]],
                vec![0, 1],
            ),
            // A missing value already matches anything: (a, *) matches (a, x) and (a, y), so
            // fk = 3, 2, 2 (records 1, 2, 3): 2-anonymous as it is.
            (
                "missing values count as matches",
                vec![vec![a, None], vec![a, x], vec![a, y]],
                2,
                None,
                vec![vec![a, None], vec![a, x], vec![a, y]],
                vec![0, 0],
            ),
        ];
        for (name, rows, k, importance, want, want_counts) in cases {
            let rows: Vec<&[Option<&str>]> = rows.iter().map(Vec::as_slice).collect();
            let t = table(&rows, None);
            let (out, report) = local_suppression(&t, k, importance.as_deref()).unwrap();
            for (i, w) in want.iter().enumerate() {
                let got: Vec<Option<&str>> = (0..t.width()).map(|j| out.value(i, j)).collect();
                assert_eq!(&got, w, "{name}: record {}", i + 1);
            }
            let counts: Vec<usize> = report.variables.iter().map(|v| v.suppressed).collect();
            assert_eq!(counts, want_counts, "{name}");
            assert_eq!(
                report.suppressed,
                want_counts.iter().sum::<usize>(),
                "{name}"
            );
            let f = frequencies(&out, MissingMode::Any);
            assert!(f.fk.iter().all(|&fk| fk >= k), "{name}: {:?}", f.fk);
            // The input is left alone.
            assert_eq!(t.value(0, 0), rows[0][0], "{name}");
        }
    }

    #[test]
    fn errors() {
        let a = Some("a");
        let t = table(&[&[a, a], &[a, None]], None);
        assert_eq!(
            local_suppression(&t, 3, None).unwrap_err(),
            SdcError::TooFewRecords { k: 3, records: 2 }
        );
        assert_eq!(local_suppression(&t, 0, None).unwrap_err(), SdcError::ZeroK);
        assert_eq!(
            local_suppression(&t, 2, Some(&[1])).unwrap_err(),
            SdcError::ImportanceWidth {
                expected: 2,
                got: 1
            }
        );
        assert_eq!(
            local_suppression(&t, 2, Some(&[1, 0])).unwrap_err(),
            SdcError::ZeroImportance {
                variable: "k1".into()
            }
        );
        // k = n is reachable: everything blanked at worst.
        let (_, r) = local_suppression(&t, 2, None).unwrap();
        assert_eq!(r.violators_before, 0);
    }

    /// Random tables: 1 to 60 records, 1 to 5 keys of up to 4 categories, a tenth missing.
    fn rows() -> impl Strategy<Value = Vec<Vec<Option<u8>>>> {
        (1usize..=5, 1usize..=60).prop_flat_map(|(m, n)| {
            let cell = prop_oneof![9 => (0u8..4).prop_map(Some), 1 => Just(None)];
            proptest::collection::vec(proptest::collection::vec(cell, m), n)
        })
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn always_k_anonymous(rows in rows(), k in 2u32..=5, ranks in proptest::collection::vec(1u32..=5, 5)) {
            let t = table_of_codes(&rows);
            let m = t.width();
            let result = local_suppression(&t, k, Some(&ranks[..m]));
            if rows.len() < k as usize {
                prop_assert_eq!(result.unwrap_err(), SdcError::TooFewRecords { k, records: rows.len() });
                return Ok(());
            }
            let (out, report) = result.unwrap();
            // fk recomputed by its definition: records agreeing where both have a value.
            let n = rows.len();
            let mut blanked = vec![0usize; m];
            for i in 0..n {
                let fk = (0..n)
                    .filter(|&o| (0..m).all(|j| {
                        let (x, y) = (out.code(i, j), out.code(o, j));
                        x == MISSING || y == MISSING || x == y
                    }))
                    .count();
                prop_assert!(fk >= k as usize, "record {} has fk {}", i, fk);
                for (j, blanked) in blanked.iter_mut().enumerate() {
                    // Only blanking: a value is kept or becomes missing, never changed.
                    let (before, after) = (t.value(i, j), out.value(i, j));
                    prop_assert!(after.is_none() || after == before);
                    if before.is_some() && after.is_none() {
                        *blanked += 1;
                    }
                }
            }
            let counted: Vec<usize> = report.variables.iter().map(|v| v.suppressed).collect();
            prop_assert_eq!(&counted, &blanked);
            let loss = crate::loss::compare(&t, &out).unwrap();
            let lost: Vec<usize> = loss.variables.iter().map(|v| v.suppressed).collect();
            prop_assert_eq!(lost, blanked);
            prop_assert_eq!(loss.changed, 0);
            prop_assert!(report.rounds <= m);
            // Nothing is blanked in a table that is already k-anonymous.
            if report.violators_before == 0 {
                prop_assert_eq!(report.suppressed, 0);
            }
        }
    }

    /// The benchmark of docs/BENCHMARKS.md: `cargo test -p baraza-sdc --release --
    /// --ignored --nocapture timing_100k`.
    #[test]
    #[ignore]
    fn timing_100k_records_5_keys_k3() {
        let t = crate::suppress::bench::survey(100_000, 42);
        let start = std::time::Instant::now();
        let (out, report) = bench::run(&t, 3);
        let took = start.elapsed();
        let f = frequencies(&out, MissingMode::Any);
        assert!(f.fk.iter().all(|&fk| fk >= 3));
        println!(
            "local suppression, 100,000 records x 5 keys to k = 3: {took:?}; {} violators before, {} values blanked in {} rounds, per key {:?}",
            report.violators_before,
            report.suppressed,
            report.rounds,
            report.variables.iter().map(|v| v.suppressed).collect::<Vec<_>>()
        );
        // Harder: age, the key with the most categories, is the most important and is kept
        // as long as another key can be blanked instead.
        let start = std::time::Instant::now();
        let (out, report) = local_suppression(&t, 3, Some(&[1, 2, 3, 4, 5])).unwrap();
        let took = start.elapsed();
        let f = frequencies(&out, MissingMode::Any);
        assert!(f.fk.iter().all(|&fk| fk >= 3));
        println!(
            "the same, age most important: {took:?}; {} values blanked in {} rounds, per key {:?}",
            report.suppressed,
            report.rounds,
            report
                .variables
                .iter()
                .map(|v| v.suppressed)
                .collect::<Vec<_>>()
        );
    }
}

/// A synthetic survey for benchmarks, and the call they time.
#[doc(hidden)]
pub mod bench {
    use super::*;
    use crate::table::{Row, TableBuilder};

    /// `n` records with 5 keys drawn with a fixed seed: age (0–89), sex (2), region (50),
    /// household size (1–12), education (8); about one record in a hundred misses its
    /// education.
    pub fn survey(n: usize, seed: u64) -> KeyTable {
        let mut rng = crate::pram::SplitMix64::new(seed);
        let mut next = move |bound: u64| rng.next_u64() % bound;
        let names = ["age", "sex", "region", "household_size", "education"];
        // The builder accepts 5 keys; a failure here is a bug of this function.
        let Ok(mut b) = TableBuilder::new(&names, None, None, &[]) else {
            unreachable!("five distinct names")
        };
        for i in 0..n {
            let age = next(90).to_string();
            let sex = next(2).to_string();
            let region = next(50).to_string();
            let size = (1 + next(12)).to_string();
            let edu = (next(100) > 0).then(|| next(8).to_string());
            let keys = [
                Some(age.as_str()),
                Some(sex.as_str()),
                Some(region.as_str()),
                Some(size.as_str()),
                edu.as_deref(),
            ];
            let pushed = b.push(Row {
                number: i + 1,
                keys: &keys,
                weight: None,
                household: None,
                sensitive: &[],
            });
            debug_assert!(pushed.is_ok());
        }
        match b.finish() {
            Ok(t) => t,
            Err(_) => unreachable!("n ≥ 1 records"),
        }
    }

    /// Local suppression to `k` with the default importance.
    pub fn run(table: &KeyTable, k: u32) -> (KeyTable, SuppressionReport) {
        match local_suppression(table, k, None) {
            Ok(r) => r,
            Err(e) => unreachable!("{e}"),
        }
    }
}
