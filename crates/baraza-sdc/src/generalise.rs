//! The least costly generalisation that makes a table k-anonymous: a search over the levels
//! of the keys' hierarchies, in the spirit of ARX's Flash.
//!
//! # The lattice
//!
//! Each key with a [`Hierarchy`] can be shown at level 0 (its values) up to the hierarchy's
//! height; a *node* picks one level per key, and the nodes form a lattice ordered key by key.
//! Going up never makes a record rarer: a generalisation merges categories, and with a
//! missing value matching any category (sdcMicro's convention, used throughout) merging can
//! only add matches. So the records violating k-anonymity (`fk < k`) at a node are at most
//! those at any node below it: **if a node meets the target, every node above it does; if it
//! fails, every node below it fails** (the monotonicity Flash prunes with).
//!
//! A node *meets* the target when at most `max_suppressed` (a share of the records) violate
//! k-anonymity: those are then fixed by [`local_suppression`], which blanks values in them
//! only, so the result is k-anonymous (guaranteed) with at most that share of records touched
//! by suppression.
//!
//! # The loss, and the search
//!
//! The loss of a node is the mean, over the keys with a hierarchy, of the share of their
//! categories lost: `(c₀ − c_l) / (c₀ − 1)` for `c₀` distinct values in the data and `c_l`
//! at level `l` (0 for a key with a single value). It grows with each level, so it is
//! monotone on the lattice too. Ties are broken by the fewest violators, then by the lowest
//! sum of levels, then by the levels themselves: the result is deterministic.
//!
//! The nodes are visited in order of increasing loss; a node below a node known to fail is
//! skipped without being evaluated; the first node evaluated that meets the target is the
//! optimum, since any node of lower loss either was evaluated and failed or lies below one
//! that failed. Flash proper walks paths through the lattice and binary-searches them to
//! find the frontier with fewer evaluations; this best-first order finds the same optimum (for
//! this monotone loss) with a simpler argument, and its evaluations are at most the lattice's
//! size. An evaluation recodes the keys through per-level code maps and counts frequencies:
//! `O(n · m)` plus [`frequencies`]; the lattice may have at most [`MAX_NODES`] nodes.

use crate::error::SdcError;
use crate::freq::{frequencies, MissingMode};
use crate::recode::{key_index, relabel, Hierarchy};
use crate::suppress::{local_suppression, SuppressionReport};
use crate::table::{KeyTable, MISSING};
use serde::Serialize;

/// The largest lattice searched.
pub const MAX_NODES: usize = 1_000_000;

/// The chosen level of one key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyLevel {
    pub variable: String,
    pub level: usize,
    pub height: usize,
    pub categories_before: usize,
    pub categories_after: usize,
}

/// What [`optimal_generalisation`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneralisationReport {
    pub k: u32,
    pub max_suppressed: f64,
    /// One entry per key with a hierarchy, in the table's order.
    pub levels: Vec<KeyLevel>,
    /// The node's loss, in [0, 1].
    pub loss: f64,
    /// Records violating k-anonymity at the chosen node, before suppression.
    pub violators: usize,
    pub lattice_size: usize,
    /// Nodes whose frequencies were computed.
    pub nodes_evaluated: usize,
    /// The local suppression run on the generalised table.
    pub suppression: SuppressionReport,
}

/// Finds the least costly levels of the `hierarchies` (by key name; keys without one stay as
/// they are) such that at most a share `max_suppressed` of the records violate
/// `k`-anonymity, applies them, and suppresses locally what is left; see the module's
/// documentation.
pub fn optimal_generalisation(
    table: &KeyTable,
    hierarchies: &[(String, Hierarchy)],
    k: u32,
    max_suppressed: f64,
) -> Result<(KeyTable, GeneralisationReport), SdcError> {
    if k == 0 {
        return Err(SdcError::ZeroK);
    }
    if !(0.0..=1.0).contains(&max_suppressed) {
        return Err(SdcError::SuppressionShare {
            value: max_suppressed,
        });
    }
    let n = table.rows();
    let m = table.width();
    // Per generalised key: its index, and per level the map old code → code at that level.
    let mut keys: Vec<GenKey> = Vec::new();
    for (name, h) in hierarchies {
        let j = key_index(table, name)?;
        if keys.iter().any(|(x, ..)| *x == j) {
            return Err(SdcError::DuplicateVariable { name: name.clone() });
        }
        let (maps, counts) = level_maps(table, j, h)?;
        keys.push((j, h, maps, counts));
    }
    keys.sort_by_key(|(j, ..)| *j);
    let heights: Vec<usize> = keys.iter().map(|(_, h, ..)| h.height()).collect();
    let mut size = 1usize;
    for h in &heights {
        size = size.saturating_mul(h + 1);
        if size > MAX_NODES {
            return Err(SdcError::LatticeTooLarge {
                nodes: size,
                max: MAX_NODES,
            });
        }
    }
    let loss_of = |node: &[usize]| -> f64 {
        if keys.is_empty() {
            return 0.0;
        }
        let sum: f64 = keys
            .iter()
            .zip(node)
            .map(|((_, _, _, c), &l)| {
                if c[0] <= 1 {
                    0.0
                } else {
                    (c[0] - c[l]) as f64 / (c[0] - 1) as f64
                }
            })
            .sum();
        sum / keys.len() as f64
    };
    // Every node, by increasing loss (then sum of levels, then levels).
    let mut nodes: Vec<Vec<usize>> = Vec::with_capacity(size);
    let mut node = vec![0usize; keys.len()];
    loop {
        nodes.push(node.clone());
        // The next node in mixed radix; done when it wraps.
        let mut d = 0;
        while d < node.len() && node[d] == heights[d] {
            node[d] = 0;
            d += 1;
        }
        if d == node.len() {
            break;
        }
        node[d] += 1;
    }
    let mut keyed: Vec<(f64, usize, Vec<usize>)> = nodes
        .into_iter()
        .map(|v| (loss_of(&v), v.iter().sum(), v))
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));

    let allowed = (max_suppressed * n as f64).floor() as usize;
    let mut failed: Vec<Vec<usize>> = Vec::new();
    let mut evaluated = 0;
    let mut found = None;
    let mut work = table.codes.clone();
    let mut scratch = table.clone();
    let mut i = 0;
    while i < keyed.len() {
        let loss = keyed[i].0;
        // All nodes of equal loss are evaluated, so that ties go to the fewest violators.
        let mut best: Option<(usize, usize)> = None;
        let mut e = i;
        while e < keyed.len() && keyed[e].0 == loss {
            let v = &keyed[e].2;
            let below_failed = failed
                .iter()
                .any(|f| f.iter().zip(v).all(|(fl, vl)| vl <= fl));
            if !below_failed {
                evaluated += 1;
                // Recode the keys through the level maps.
                for (r, row) in work.chunks_mut(m).enumerate() {
                    for ((j, _, maps, _), &l) in keys.iter().zip(v) {
                        let c = table.codes[r * m + j];
                        row[*j] = if c == MISSING {
                            MISSING
                        } else {
                            maps[l][c as usize]
                        };
                    }
                }
                std::mem::swap(&mut scratch.codes, &mut work);
                let f = frequencies(&scratch, MissingMode::Any);
                std::mem::swap(&mut scratch.codes, &mut work);
                let violators = f.fk.iter().filter(|&&x| x < k).count();
                if violators <= allowed {
                    if best.is_none_or(|(bv, _)| violators < bv) {
                        best = Some((violators, e));
                    }
                } else {
                    failed.push(v.clone());
                }
            }
            e += 1;
        }
        if let Some(b) = best {
            found = Some(b);
            break;
        }
        i = e;
    }
    let Some((violators, at)) = found else {
        return Err(SdcError::NoGeneralisation { k, max_suppressed });
    };
    let chosen = keyed[at].2.clone();
    // Apply the chosen levels with their labels, then suppress what is left.
    let mut out = table.clone();
    let mut levels = Vec::with_capacity(keys.len());
    for ((j, h, _, counts), &l) in keys.iter().zip(&chosen) {
        let labels: Vec<String> = table.keys[*j]
            .categories
            .iter()
            // Every category climbed in level_maps: the error branch cannot be taken.
            .map(|c| h.generalise(c, l).unwrap_or_else(|_| c.clone()))
            .collect();
        out = relabel(&out, *j, &labels, String::new())?.0;
        levels.push(KeyLevel {
            variable: table.keys[*j].name.clone(),
            level: l,
            height: h.height(),
            categories_before: counts[0],
            categories_after: counts[l],
        });
    }
    let (out, suppression) = local_suppression(&out, k, None)?;
    Ok((
        out,
        GeneralisationReport {
            k,
            max_suppressed,
            levels,
            loss: keyed[at].0,
            violators,
            lattice_size: size,
            nodes_evaluated: evaluated,
            suppression,
        },
    ))
}

/// A key with a hierarchy: its index, its hierarchy, per level the map from its codes to the
/// codes at that level, and per level the distinct values in use.
type GenKey<'a> = (usize, &'a Hierarchy, Vec<Vec<u32>>, Vec<usize>);

/// For key `j`: per level, the code of each category's ancestor (ancestors numbered per level
/// in order of first appearance), and the number of distinct values in use at each level.
fn level_maps(
    table: &KeyTable,
    j: usize,
    h: &Hierarchy,
) -> Result<(Vec<Vec<u32>>, Vec<usize>), SdcError> {
    let cats = &table.keys[j].categories;
    let mut used = vec![false; cats.len()];
    for i in 0..table.rows() {
        let c = table.code(i, j);
        if c != MISSING {
            used[c as usize] = true;
        }
    }
    let mut maps = Vec::with_capacity(h.height() + 1);
    let mut counts = Vec::with_capacity(h.height() + 1);
    for level in 0..=h.height() {
        let mut index = std::collections::BTreeMap::new();
        let mut map = Vec::with_capacity(cats.len());
        let mut in_use = std::collections::BTreeSet::new();
        for (c, value) in cats.iter().enumerate() {
            let label = h.generalise(value, level).map_err(|step| {
                let row = (0..table.rows())
                    .find(|&i| table.code(i, j) == c as u32)
                    .map_or(0, |i| i + 1);
                SdcError::NotInHierarchy {
                    variable: table.keys[j].name.clone(),
                    row,
                    value: value.clone(),
                    level: step,
                }
            })?;
            let next = index.len() as u32;
            let code = *index.entry(label).or_insert(next);
            map.push(code);
            if used[c] {
                in_use.insert(code);
            }
        }
        maps.push(map);
        counts.push(in_use.len());
    }
    Ok((maps, counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::tests::{table, table_of_codes};
    use std::collections::BTreeMap;

    fn hierarchy(levels: &[&[(&str, &str)]]) -> Hierarchy {
        Hierarchy {
            levels: levels
                .iter()
                .map(|l| {
                    l.iter()
                        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                        .collect::<BTreeMap<_, _>>()
                })
                .collect(),
        }
    }

    /// Ages 21, 22, 35, 37 and sexes m, f, m, f; ages climb to decades then "*", sexes to "*".
    fn people() -> (KeyTable, Vec<(String, Hierarchy)>) {
        let rows = [
            [Some("21"), Some("m")],
            [Some("22"), Some("f")],
            [Some("35"), Some("m")],
            [Some("37"), Some("f")],
        ];
        let rows: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
        let age = hierarchy(&[
            &[("21", "20s"), ("22", "20s"), ("35", "30s"), ("37", "30s")],
            &[("20s", "*"), ("30s", "*")],
        ]);
        let sex = hierarchy(&[&[("m", "*"), ("f", "*")]]);
        (
            table(&rows, None),
            vec![("k0".to_owned(), age), ("k1".to_owned(), sex)],
        )
    }

    #[test]
    fn cases() {
        // Nodes (age level, sex level) and their losses: age has 4 values, 2 at level 1, 1 at
        // level 2: losses 0, 2/3, 1; sex 2 values, 1 at level 1: losses 0, 1. Node loss is the
        // mean. k = 2:
        // (0,0) loss 0: all unique (4 violators). (1,0) loss 1/3: (20s,m) (20s,f) (30s,m)
        // (30s,f), all unique. (2,0) loss 1/2: (*,m) ×2, (*,f) ×2: meets with 0 violators.
        // (0,1) loss 1/2 too: (21,*) … all unique. So (2,0) with 0 suppressed.
        // With 100 % suppression allowed, (0,0) meets: loss 0, 4 violators to suppress.
        let (t, h) = people();
        // (name, k, share, levels, loss, violators)
        type Case<'a> = (&'a str, u32, f64, &'a [usize], f64, usize);
        let cases: &[Case] = &[
            ("k = 2, no suppression", 2, 0.0, &[2, 0], 0.5, 0),
            ("k = 2, all may be suppressed", 2, 1.0, &[0, 0], 0.0, 4),
            // k = 3 with no suppression: only (2,1) (loss 1) puts all 4 together.
            ("k = 3, no suppression", 3, 0.0, &[2, 1], 1.0, 0),
            // Half the records may be suppressed: 2 violators allowed. (1,0) loss 1/3: all
            // unique. (2,0) loss 1/2: (*,m) ×2, fk 2 < 3: all violate. (0,1) 1/2: all unique.
            // (1,1) loss (2/3 + 1)/2 = 5/6: (20s,*) ×2: all violate. (2,1) loss 1: none.
            ("k = 3, half may be suppressed", 3, 0.5, &[2, 1], 1.0, 0),
        ];
        for (name, k, share, want, loss, violators) in cases {
            let (out, r) = optimal_generalisation(&t, &h, *k, *share).unwrap();
            let levels: Vec<usize> = r.levels.iter().map(|l| l.level).collect();
            assert_eq!(&levels, want, "{name}");
            assert!((r.loss - loss).abs() < 1e-9, "{name}: loss {}", r.loss);
            assert_eq!(r.violators, *violators, "{name}");
            let f = frequencies(&out, MissingMode::Any);
            assert!(f.fk.iter().all(|&x| x >= *k), "{name}: {:?}", f.fk);
            assert_eq!(r.lattice_size, 6, "{name}");
        }
        let (out, _) = optimal_generalisation(&t, &h, 2, 0.0).unwrap();
        assert_eq!(out.value(0, 0), Some("*"));
        assert_eq!(out.value(0, 1), Some("m"));
    }

    #[test]
    fn errors() {
        let (t, h) = people();
        assert_eq!(
            optimal_generalisation(&t, &h, 5, 0.0).unwrap_err(),
            SdcError::NoGeneralisation {
                k: 5,
                max_suppressed: 0.0
            }
        );
        let twice = vec![h[0].clone(), h[0].clone()];
        assert!(matches!(
            optimal_generalisation(&t, &twice, 2, 0.0),
            Err(SdcError::DuplicateVariable { .. })
        ));
        assert!(matches!(
            optimal_generalisation(&t, &h, 2, 1.5),
            Err(SdcError::SuppressionShare { .. })
        ));
        let partial = vec![("k0".to_owned(), hierarchy(&[&[("21", "20s")]]))];
        assert_eq!(
            optimal_generalisation(&t, &partial, 2, 0.0).unwrap_err(),
            SdcError::NotInHierarchy {
                variable: "k0".into(),
                row: 2,
                value: "22".into(),
                level: 1
            }
        );
    }

    use crate::recode::{recode, Recoding};
    use proptest::prelude::*;

    /// `cargo test -p baraza-sdc --release -- --ignored --nocapture timing_generalisation`
    #[test]
    #[ignore]
    fn timing_generalisation_100k() {
        let t = crate::suppress::bench::survey(100_000, 42);
        let ages = |w: u32| -> BTreeMap<String, String> {
            (0..90u32)
                .map(|a| {
                    (
                        a.to_string(),
                        format!("{}-{}", a / w * w, a / w * w + w - 1),
                    )
                })
                .collect()
        };
        let up = |from: u32, to: u32| -> BTreeMap<String, String> {
            (0..90u32)
                .map(|a| {
                    (
                        format!("{}-{}", a / from * from, a / from * from + from - 1),
                        format!("{}-{}", a / to * to, a / to * to + to - 1),
                    )
                })
                .collect()
        };
        let age = Hierarchy {
            levels: vec![ages(5), up(5, 10), up(10, 20), up(20, 90)],
        };
        let region = Hierarchy {
            levels: vec![
                (0..50)
                    .map(|r| (r.to_string(), format!("zone{}", r / 10)))
                    .collect(),
                (0..5)
                    .map(|z| (format!("zone{z}"), "*".to_owned()))
                    .collect(),
            ],
        };
        let size = Hierarchy {
            levels: vec![
                (1..=12)
                    .map(|s| {
                        (
                            s.to_string(),
                            if s <= 3 {
                                "1-3"
                            } else if s <= 6 {
                                "4-6"
                            } else {
                                "7+"
                            }
                            .to_owned(),
                        )
                    })
                    .collect(),
                ["1-3", "4-6", "7+"]
                    .iter()
                    .map(|b| ((*b).to_owned(), "*".to_owned()))
                    .collect(),
            ],
        };
        let hs = vec![
            ("age".to_owned(), age),
            ("region".to_owned(), region),
            ("household_size".to_owned(), size),
        ];
        let start = std::time::Instant::now();
        let (_, r) = optimal_generalisation(&t, &hs, 3, 0.05).unwrap();
        println!(
            "optimal generalisation, 100,000 records x 5 keys (3 with hierarchies), k = 3, 5 % suppression: {:?}; levels {:?}, loss {:.3}, {} violators, {} of {} nodes evaluated, {} values suppressed",
            start.elapsed(),
            r.levels.iter().map(|l| l.level).collect::<Vec<_>>(),
            r.loss,
            r.violators,
            r.nodes_evaluated,
            r.lattice_size,
            r.suppression.suppressed
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(150))]

        /// The search finds the least loss among all nodes that meet the target, evaluated one
        /// by one, and its result is k-anonymous.
        #[test]
        fn optimal_among_all_nodes(
            rows in (1usize..=3).prop_flat_map(|m| proptest::collection::vec(proptest::collection::vec(prop_oneof![6 => (0u8..6).prop_map(Some), 1 => Just(None)], m), 1..30)),
            k in 2u32..=4,
            share in prop_oneof![Just(0.0), Just(0.1), Just(0.3)],
        ) {
            let t = table_of_codes(&rows);
            let m = t.width();
            // v → h(v/2) → q(v/4).
            let h = Hierarchy {
                levels: vec![
                    (0..6).map(|v| (v.to_string(), format!("h{}", v / 2))).collect(),
                    (0..3).map(|v| (format!("h{v}"), format!("q{}", v / 2))).collect(),
                ],
            };
            let hs: Vec<(String, Hierarchy)> = (0..m).map(|j| (format!("k{j}"), h.clone())).collect();
            let allowed = (share * rows.len() as f64).floor() as usize;
            // Every node by brute force.
            let mut best: Option<f64> = None;
            let nodes = 3usize.pow(m as u32);
            for code in 0..nodes {
                let levels: Vec<usize> = (0..m).map(|j| code / 3usize.pow(j as u32) % 3).collect();
                let mut g = t.clone();
                let mut loss = 0.0;
                for (j, &l) in levels.iter().enumerate() {
                    let (next, r) = recode(&g, &format!("k{j}"), &Recoding::Hierarchy { hierarchy: h.clone(), level: l }).unwrap();
                    g = next;
                    let c0 = r.categories_before;
                    if c0 > 1 {
                        loss += (c0 - r.categories_after) as f64 / (c0 - 1) as f64;
                    }
                }
                loss /= m as f64;
                let f = frequencies(&g, MissingMode::Any);
                let violators = f.fk.iter().filter(|&&x| x < k).count();
                if violators <= allowed && best.is_none_or(|b| loss < b) {
                    best = Some(loss);
                }
            }
            match (optimal_generalisation(&t, &hs, k, share), best) {
                (Ok((out, r)), Some(b)) => {
                    prop_assert!((r.loss - b).abs() < 1e-9, "found {} best {}", r.loss, b);
                    prop_assert!(r.violators <= allowed);
                    let f = frequencies(&out, MissingMode::Any);
                    prop_assert!(f.fk.iter().all(|&x| x >= k));
                    prop_assert!(r.suppression.records_changed <= r.violators);
                }
                (Err(SdcError::NoGeneralisation { .. }), None) => {}
                (Err(SdcError::TooFewRecords { .. }), _) => prop_assert!(rows.len() < k as usize),
                (got, want) => prop_assert!(false, "got {:?}, brute force {:?}", got.map(|g| g.1), want),
            }
        }
    }
}
