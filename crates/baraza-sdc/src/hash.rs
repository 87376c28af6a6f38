//! Grouping records by the values of some variables: dense group ids (by an array, a radix
//! sort or a hash map of the packed codes) and a fast non-cryptographic hasher.
//!
//! The inputs are the table's own codes, never chosen by an attacker against a server (the
//! crate runs on a file its user holds), so a simple multiplicative hash (the one rustc uses,
//! "FxHash") is used instead of SipHash: grouping is most of the work of every measure.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Words of 8 bytes, the last one padded with zeros.
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // The multiplication leaves the low bits of the product depending only on the low bits
        // of the key, and the table picks buckets by the low bits: keys that differ only in
        // their high half (a group id above a category code) would share buckets. Rotating
        // brings the well-mixed high bits down (as rustc-hash 2 does).
        self.hash.rotate_left(26)
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

pub(crate) fn fx_map<K, V>(capacity: usize) -> FxMap<K, V> {
    FxMap::with_capacity_and_hasher(capacity, Default::default())
}

/// Dense group ids (0..groups) of `n` rows of a row-major matrix of `width` codes, grouped by
/// the codes of the columns `vars` (all rows are in one group when `vars` is empty). Ids are
/// numbered in order of first appearance.
///
/// The codes of a row are packed into one integer by mixed radix (each column's largest code
/// plus one, and one digit more for [`MISSING`](crate::table::MISSING)), so that a row costs
/// one hash operation; when the product of the radices overflows 64 bits, the columns are
/// taken in chunks that fit, each chunk refining the previous ids. `O(n · |vars|)`.
pub(crate) fn group_ids(codes: &[u32], width: usize, n: usize, vars: &[usize]) -> (Vec<u32>, u32) {
    let mut ids = vec![0u32; n];
    let mut groups = u32::from(n > 0);
    if n == 0 || vars.is_empty() {
        return (ids, groups);
    }
    let radix = radices(codes, width, n, vars);
    let mut start = 0;
    let mut first = true;
    while start < vars.len() {
        // The longest run of columns whose radices multiply within 64 bits (at least one).
        let mut end = start + 1;
        let mut product = radix[start];
        while end < vars.len() {
            match product.checked_mul(radix[end]) {
                Some(p) => {
                    product = p;
                    end += 1;
                }
                None => break,
            }
        }
        let chunk = &vars[start..end];
        let digits = &radix[start..end];
        let pack = |i: usize| -> u64 {
            let row = &codes[i * width..(i + 1) * width];
            chunk.iter().zip(digits).fold(0u64, |acc, (&v, &r)| {
                let c = row[v];
                // MISSING is the last digit of its column.
                let d = if c == crate::table::MISSING {
                    r - 1
                } else {
                    u64::from(c)
                };
                acc * r + d
            })
        };
        let mut next = 0u32;
        if first && product <= 4 * n as u64 {
            // Few possible combinations: an array indexed by them.
            let mut table = vec![u32::MAX; product as usize];
            for (i, id) in ids.iter_mut().enumerate() {
                let slot = &mut table[pack(i) as usize];
                if *slot == u32::MAX {
                    *slot = next;
                    next += 1;
                }
                *id = *slot;
            }
        } else if first && n >= SORT_FROM {
            let keys: Vec<u64> = (0..n).map(pack).collect();
            next = ids_by_sorting(&keys, product, &mut ids);
        } else if first {
            let mut map: FxMap<u64, u32> = fx_map(n.min(1 << 16));
            for (i, id) in ids.iter_mut().enumerate() {
                *id = *map.entry(pack(i)).or_insert_with(|| {
                    next += 1;
                    next - 1
                });
            }
        } else {
            let mut map: FxMap<u128, u32> = fx_map((groups as usize).min(n));
            for (i, id) in ids.iter_mut().enumerate() {
                let key = (u128::from(*id) << 64) | u128::from(pack(i));
                *id = *map.entry(key).or_insert_with(|| {
                    next += 1;
                    next - 1
                });
            }
        }
        groups = next;
        first = false;
        start = end;
    }
    (ids, groups)
}

/// From this many rows on, the first chunk is grouped by sorting rather than hashing: a radix
/// sort reads and writes memory in order, where a hash map of half a million groups misses the
/// cache on nearly every row.
const SORT_FROM: usize = 1 << 12;

/// Dense ids of `keys` (each below `product`) in order of first appearance, by a stable radix
/// sort of (key, row); returns the number of groups.
fn ids_by_sorting(keys: &[u64], product: u64, ids: &mut [u32]) -> u32 {
    const DIGIT: u32 = 11;
    let n = keys.len();
    let bits = 64 - (product - 1).leading_zeros();
    if bits <= 32 && n <= 1 << 32 {
        return ids_by_sorting_narrow(keys, bits, ids);
    }
    let mut order: Vec<(u64, u32)> = keys.iter().zip(0u32..).map(|(&k, i)| (k, i)).collect();
    let mut other = vec![(0u64, 0u32); n];
    let mut shift = 0;
    while shift < bits {
        let mut count = vec![0usize; 1 << DIGIT];
        let digit = |k: u64| ((k >> shift) & ((1 << DIGIT) - 1)) as usize;
        for &(k, _) in &order {
            count[digit(k)] += 1;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let here = *c;
            *c = sum;
            sum += here;
        }
        for &(k, i) in &order {
            let d = digit(k);
            other[count[d]] = (k, i);
            count[d] += 1;
        }
        std::mem::swap(&mut order, &mut other);
        shift += DIGIT;
    }
    // The sort is stable: each run of equal keys starts with its first row. Number the runs
    // by that row, then give every row its run's number.
    let mut rank = vec![u32::MAX; n];
    let mut start = 0;
    while start < n {
        rank[order[start].1 as usize] = 0;
        let key = order[start].0;
        start += order[start..]
            .iter()
            .take_while(|&&(k, _)| k == key)
            .count();
    }
    let mut groups = 0u32;
    for r in rank.iter_mut() {
        if *r == 0 {
            *r = groups;
            groups += 1;
        }
    }
    let mut start = 0;
    while start < n {
        let (key, first) = order[start];
        let id = rank[first as usize];
        while start < n && order[start].0 == key {
            ids[order[start].1 as usize] = id;
            start += 1;
        }
    }
    groups
}

/// [`ids_by_sorting`] for keys of at most 32 bits: each (key, row) is one u64, half the memory
/// to move at each pass.
fn ids_by_sorting_narrow(keys: &[u64], bits: u32, ids: &mut [u32]) -> u32 {
    const DIGIT: u32 = 11;
    let n = keys.len();
    let mut order: Vec<u64> = keys.iter().zip(0u64..).map(|(&k, i)| k << 32 | i).collect();
    let mut other = vec![0u64; n];
    let mut shift = 32;
    while shift < 32 + bits {
        let mut count = vec![0usize; 1 << DIGIT];
        let digit = |k: u64| ((k >> shift) & ((1 << DIGIT) - 1)) as usize;
        for &k in &order {
            count[digit(k)] += 1;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let here = *c;
            *c = sum;
            sum += here;
        }
        for &k in &order {
            let d = digit(k);
            other[count[d]] = k;
            count[d] += 1;
        }
        std::mem::swap(&mut order, &mut other);
        shift += DIGIT;
    }
    let row = |x: u64| (x & 0xffff_ffff) as usize;
    let key = |x: u64| x >> 32;
    let mut rank = vec![u32::MAX; n];
    let mut start = 0;
    while start < n {
        rank[row(order[start])] = 0;
        let k = key(order[start]);
        start += order[start..].iter().take_while(|&&x| key(x) == k).count();
    }
    let mut groups = 0u32;
    for r in rank.iter_mut() {
        if *r == 0 {
            *r = groups;
            groups += 1;
        }
    }
    let mut start = 0;
    while start < n {
        let k = key(order[start]);
        let id = rank[row(order[start])];
        while start < n && key(order[start]) == k {
            ids[row(order[start])] = id;
            start += 1;
        }
    }
    groups
}

/// Each column's radix: its largest code plus two (one digit for a missing value).
fn radices(codes: &[u32], width: usize, n: usize, vars: &[usize]) -> Vec<u64> {
    let mut top = vec![0u32; vars.len()];
    for row in codes.chunks_exact(width).take(n) {
        for (t, &v) in top.iter_mut().zip(vars) {
            let c = row[v];
            if c != crate::table::MISSING && c > *t {
                *t = c;
            }
        }
    }
    top.iter().map(|&t| u64::from(t) + 2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::MISSING;

    /// Keys that differ only in their high half (a group id above a small code) must not
    /// share their low bits, which pick the bucket.
    #[test]
    fn high_bits_reach_the_bucket() {
        let buckets: std::collections::HashSet<u64> = (0..4096u64)
            .map(|g| {
                let mut h = FxHasher::default();
                h.write_u64((g << 32) | 1);
                h.finish() & 0xfff
            })
            .collect();
        // 4096 keys in 4096 buckets (about 2600 used if random; 1983 here): without the
        // rotation they all land in one.
        assert!(buckets.len() > 1500, "{} buckets", buckets.len());
    }

    #[test]
    fn group_ids_groups_equal_projections_only() {
        // 4 rows × 3 columns.
        let codes = [0, 1, 2, 0, 1, 3, 1, 1, 2, 0, 1, 2];
        let cases: &[(&[usize], &[u32], u32)] = &[
            (&[], &[0, 0, 0, 0], 1),
            (&[0], &[0, 0, 1, 0], 2),
            (&[1], &[0, 0, 0, 0], 1),
            (&[0, 2], &[0, 1, 2, 0], 3),
            (&[2, 0], &[0, 1, 2, 0], 3),
        ];
        for (vars, want, groups) in cases {
            let (ids, g) = group_ids(&codes, 3, 4, vars);
            assert_eq!(&ids, want, "vars {vars:?}");
            assert_eq!(g, *groups, "vars {vars:?}");
        }
    }

    /// Columns whose radices overflow 64 bits together are grouped in chunks, with the same
    /// ids as one column at a time; a missing value is a value of its own.
    #[test]
    fn wide_codes_are_grouped_in_chunks() {
        let big = u32::MAX - 1;
        // 5 rows × 3 columns; radices about 2^32 each: three do not fit in 64 bits.
        let codes = [
            big, 0, 7, //
            big, 0, 7, //
            0, big, 7, //
            big, 0, MISSING, //
            0, big, 7,
        ];
        let (ids, groups) = group_ids(&codes, 3, 5, &[0, 1, 2]);
        assert_eq!(ids, vec![0, 0, 1, 2, 1]);
        assert_eq!(groups, 3);
        let (ids, groups) = group_ids(&codes, 3, 5, &[2]);
        assert_eq!(ids, vec![0, 0, 0, 1, 0]);
        assert_eq!(groups, 2);
    }

    /// Sorting and hashing give the same ids, in order of first appearance, with packed keys
    /// of up to 32 bits and wider.
    #[test]
    fn sorted_ids_are_the_hashed_ids() {
        for wide in [false, true] {
            sorted_ids_case(wide);
        }
    }

    fn sorted_ids_case(wide: bool) {
        let mut rng = crate::pram::SplitMix64::new(3);
        let n = 3 * SORT_FROM;
        // 2 columns, codes below 100 and 3000 (or up to 2^30), some missing.
        let top = if wide { 1 << 30 } else { 3000 };
        let codes: Vec<u32> = (0..n)
            .flat_map(|_| {
                let a = (rng.next_u64() % 100) as u32;
                let b = rng.next_u64() % 3001;
                let b = if b == 3000 {
                    MISSING
                } else if wide && b < 1000 {
                    // Spread a third of the values up to the top, keeping repeats.
                    (b * (top / 1000)) as u32
                } else {
                    b as u32
                };
                [a, b]
            })
            .collect();
        let (ids, groups) = group_ids(&codes, 2, n, &[0, 1]);
        let mut map: FxMap<(u32, u32), u32> = fx_map(0);
        let want: Vec<u32> = codes
            .chunks(2)
            .map(|r| {
                let next = map.len() as u32;
                *map.entry((r[0], r[1])).or_insert(next)
            })
            .collect();
        assert_eq!(ids, want);
        assert_eq!(groups as usize, map.len());
        assert!(groups > 1000 && (groups as usize) < n);
    }
}
