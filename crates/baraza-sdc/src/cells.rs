//! Small cells in published tables of counts: the counts under a threshold are hidden (primary
//! suppression), then as many others as needed so that none of them can be worked out again
//! from the totals printed beside them (secondary, or complementary, suppression).
//!
//! A table is seen as *items* (its cells and its totals) tied by *lines*: each row, with its
//! total; each column, with its total; the row of column totals and the column of row totals,
//! each with the grand total. Every line is an equation `cells = total`. If exactly one item of a
//! line is hidden, subtraction gives it back; so the rule is: **in every line, no item hidden,
//! or at least two**. A line breaking it gets its smallest shown item hidden too (a non-zero
//! cell rather than a zero or a total, so that the least information is lost), and so on until
//! every line keeps the rule. Hidden items only ever grow, so this ends.
//!
//! Totals are items like the others: a total under the threshold is hidden as a cell would be
//! (a row of 3 people is as small as a cell of 3), and a hidden total needs a partner in its
//! own line of totals.
//!
//! This is the rule national statistics offices apply by hand and τ-ARGUS's simplest
//! "hypercube" method approximates; it makes no single suppressed count computable from one
//! line. It does not search, as τ-ARGUS's optimal methods do, for the least loss of information,
//! nor compute how narrow an interval a determined reader could still derive by combining many
//! lines (in a two-way table, two hidden cells per line and per column leave at least one
//! unknown per rectangle, which is what the rule secures). Zero counts are shown: a zero is not
//! a person, though it can say "nobody here has this".

use serde::Serialize;

/// Why a count is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hidden {
    /// Under the threshold (and not zero).
    Small,
    /// Hidden so that a small one cannot be computed from a total.
    Complement,
}

/// A one-way table after suppression: each count's state, and the total's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneWay {
    pub cells: Vec<Option<Hidden>>,
    pub total: Option<Hidden>,
}

/// A two-way table after suppression (`cells[row][column]`), with its margins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TwoWay {
    pub cells: Vec<Vec<Option<Hidden>>>,
    pub row_totals: Vec<Option<Hidden>>,
    pub column_totals: Vec<Option<Hidden>>,
    pub total: Option<Hidden>,
}

impl TwoWay {
    /// How many counts (cells and totals) are hidden, for each reason.
    pub fn hidden(&self) -> (usize, usize) {
        let all = self
            .cells
            .iter()
            .flatten()
            .chain(&self.row_totals)
            .chain(&self.column_totals)
            .chain(std::iter::once(&self.total));
        let mut small = 0;
        let mut complement = 0;
        for h in all.flatten() {
            match h {
                Hidden::Small => small += 1,
                Hidden::Complement => complement += 1,
            }
        }
        (small, complement)
    }
}

/// Suppresses a one-way table of counts (with its total, the sum of the counts) at `threshold`
/// (counts `1..threshold` are small; a threshold of 0 or 1 hides nothing).
pub fn one_way(counts: &[u64], threshold: u64) -> OneWay {
    let total: u64 = counts.iter().sum();
    let mut values: Vec<u64> = counts.to_vec();
    values.push(total);
    let mut kinds = vec![Kind::Cell; counts.len()];
    kinds.push(Kind::Total);
    let line: Vec<usize> = (0..values.len()).collect();
    let hidden = solve(&values, &kinds, &[line], threshold);
    OneWay {
        cells: hidden[..counts.len()].to_vec(),
        total: hidden[counts.len()],
    }
}

/// Suppresses a two-way table of counts (`counts[row][column]`; every row as long as the first)
/// with its row, column and grand totals, at `threshold`. `None` when the rows differ in length.
pub fn two_way(counts: &[Vec<u64>], threshold: u64) -> Option<TwoWay> {
    let rows = counts.len();
    let cols = counts.first().map_or(0, Vec::len);
    if counts.iter().any(|r| r.len() != cols) {
        return None;
    }
    // Items: the cells row by row, then the row totals, the column totals, the grand total.
    let cell = |r: usize, c: usize| r * cols + c;
    let row_total = |r: usize| rows * cols + r;
    let col_total = |c: usize| rows * cols + rows + c;
    let grand = rows * cols + rows + cols;
    let mut values = Vec::with_capacity(grand + 1);
    let mut kinds = Vec::with_capacity(grand + 1);
    for row in counts {
        values.extend_from_slice(row);
        kinds.extend(std::iter::repeat_n(Kind::Cell, cols));
    }
    for row in counts {
        values.push(row.iter().sum());
        kinds.push(Kind::Total);
    }
    for c in 0..cols {
        values.push(counts.iter().map(|r| r[c]).sum());
        kinds.push(Kind::Total);
    }
    values.push(counts.iter().flatten().sum());
    kinds.push(Kind::Total);
    let mut lines = Vec::with_capacity(rows + cols + 2);
    for r in 0..rows {
        let mut l: Vec<usize> = (0..cols).map(|c| cell(r, c)).collect();
        l.push(row_total(r));
        lines.push(l);
    }
    for c in 0..cols {
        let mut l: Vec<usize> = (0..rows).map(|r| cell(r, c)).collect();
        l.push(col_total(c));
        lines.push(l);
    }
    let mut l: Vec<usize> = (0..rows).map(row_total).collect();
    l.push(grand);
    lines.push(l);
    let mut l: Vec<usize> = (0..cols).map(col_total).collect();
    l.push(grand);
    lines.push(l);
    let hidden = solve(&values, &kinds, &lines, threshold);
    Some(TwoWay {
        cells: (0..rows)
            .map(|r| (0..cols).map(|c| hidden[cell(r, c)]).collect())
            .collect(),
        row_totals: (0..rows).map(|r| hidden[row_total(r)]).collect(),
        column_totals: (0..cols).map(|c| hidden[col_total(c)]).collect(),
        total: hidden[grand],
    })
}

/// Suppresses any system of counts tied by lines (each line: items that sum to its last one),
/// for tables that are not simple one- or two-way tables: an indicator's cells, where the same
/// place total is the margin of one table per disaggregation. `totals[i]` says whether item `i`
/// is a total (a total is hidden as a complement only after the cells). Solving all the lines
/// at once keeps a total hidden in one table hidden in every other.
pub fn lines(
    counts: &[u64],
    totals: &[bool],
    lines: &[Vec<usize>],
    threshold: u64,
) -> Vec<Option<Hidden>> {
    let kinds: Vec<Kind> = totals
        .iter()
        .map(|&t| if t { Kind::Total } else { Kind::Cell })
        .chain(std::iter::repeat(Kind::Cell))
        .take(counts.len())
        .collect();
    let lines: Vec<Vec<usize>> = lines
        .iter()
        .filter(|l| l.len() >= 2 && l.iter().all(|&i| i < counts.len()))
        .cloned()
        .collect();
    solve(counts, &kinds, &lines, threshold)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cell,
    Total,
}

/// Primary then secondary suppression over items tied by lines (each line's items sum to its
/// last item, though only membership matters here).
fn solve(
    values: &[u64],
    kinds: &[Kind],
    lines: &[Vec<usize>],
    threshold: u64,
) -> Vec<Option<Hidden>> {
    let mut hidden: Vec<Option<Hidden>> = values
        .iter()
        .map(|&v| (v > 0 && v < threshold).then_some(Hidden::Small))
        .collect();
    loop {
        let mut changed = false;
        for line in lines {
            if line.iter().filter(|&&i| hidden[i].is_some()).count() != 1 {
                continue;
            }
            // The smallest shown item: a non-zero cell first, then a zero cell, then a total.
            let partner = line
                .iter()
                .copied()
                .filter(|&i| hidden[i].is_none())
                .min_by_key(|&i| {
                    let rank = match (kinds[i], values[i]) {
                        (Kind::Cell, v) if v > 0 => 0,
                        (Kind::Cell, _) => 1,
                        (Kind::Total, _) => 2,
                    };
                    (rank, values[i], i)
                });
            // A line always has at least two items, so a lone hidden one has a partner.
            if let Some(p) = partner {
                hidden[p] = Some(Hidden::Complement);
                changed = true;
            }
        }
        if !changed {
            return hidden;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: Option<Hidden> = Some(Hidden::Small);
    const C: Option<Hidden> = Some(Hidden::Complement);

    /// (counts, threshold, expected cells, expected total)
    type OneWayCase = (
        &'static [u64],
        u64,
        &'static [Option<Hidden>],
        Option<Hidden>,
    );

    #[test]
    fn one_way_tables() {
        let cases: [OneWayCase; 5] = [
            (&[40, 30, 12], 5, &[None, None, None], None),
            // One small cell: the next smallest cell goes with it.
            (&[40, 3, 12], 5, &[None, S, C], None),
            // Two small cells protect each other.
            (&[40, 3, 2], 5, &[None, S, S], None),
            // A zero is shown, and is not the partner while a non-zero cell is there.
            (&[40, 3, 0, 12], 5, &[None, S, None, C], None),
            // A small total is hidden like a cell, and is the small cell's partner.
            (&[3, 0], 5, &[S, None], S),
        ];
        for (counts, threshold, cells, total) in cases {
            let t = one_way(counts, threshold);
            assert_eq!(t.cells, cells, "{counts:?}");
            assert_eq!(t.total, total, "{counts:?}");
        }
    }

    #[test]
    fn two_way_tables_hide_a_partner_in_every_line() {
        // Sex by province, threshold 5: one small cell (Lac, women: 2).
        let counts = vec![vec![120, 95], vec![2, 40], vec![60, 58]];
        let t = two_way(&counts, 5).unwrap();
        assert_eq!(t.cells[1][0], S);
        // Its row and its column each get a partner; those need partners too: a rectangle.
        assert_eq!(t.cells[1][1], C, "{t:?}");
        assert_eq!(t.cells[2][0], C, "{t:?}");
        assert_eq!(t.cells[2][1], C, "{t:?}");
        assert_eq!(t.row_totals, vec![None, None, None]);
        assert_eq!(t.total, None);
        assert_eq!(t.hidden(), (1, 3));
        assert!(two_way(&[vec![1, 2], vec![3]], 5).is_none());
    }

    /// No line of a protected table has exactly one hidden count, and every small count is
    /// hidden: checked by recomputing, on random tables.
    fn check(counts: &[Vec<u64>], threshold: u64) {
        let t = two_way(counts, threshold).unwrap();
        let rows = counts.len();
        let cols = counts[0].len();
        for r in 0..rows {
            for (c, &v) in counts[r].iter().enumerate() {
                if v > 0 && v < threshold {
                    assert_eq!(t.cells[r][c], S);
                }
            }
            let n = t.cells[r].iter().filter(|h| h.is_some()).count()
                + usize::from(t.row_totals[r].is_some());
            assert_ne!(n, 1, "row {r} of {counts:?}: {t:?}");
        }
        for c in 0..cols {
            let n = (0..rows).filter(|&r| t.cells[r][c].is_some()).count()
                + usize::from(t.column_totals[c].is_some());
            assert_ne!(n, 1, "column {c} of {counts:?}: {t:?}");
        }
        let n =
            t.row_totals.iter().filter(|h| h.is_some()).count() + usize::from(t.total.is_some());
        assert_ne!(n, 1);
        let n =
            t.column_totals.iter().filter(|h| h.is_some()).count() + usize::from(t.total.is_some());
        assert_ne!(n, 1);
    }

    proptest! {
        #[test]
        fn every_line_keeps_the_rule(
            (rows, cols) in (1usize..6, 1usize..6),
            seed in proptest::collection::vec(0u64..30, 36),
            threshold in 0u64..10,
        ) {
            let counts: Vec<Vec<u64>> = (0..rows)
                .map(|r| (0..cols).map(|c| seed[r * 6 + c]).collect())
                .collect();
            check(&counts, threshold);
        }
    }
}
