//! Text folding shared by the other modules: what "the same word" means for SMS typed on
//! basic phones.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lower case without accents, every run of punctuation and white space one space, trimmed:
/// `« N'Djaména ! »` → `n djamena`. Letters of other scripts are kept (lower-cased).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'ß' => {
                push(&mut out, &mut pending_space, 's');
                's'
            }
            'æ' | 'Æ' => {
                push(&mut out, &mut pending_space, 'a');
                'e'
            }
            'œ' | 'Œ' => {
                push(&mut out, &mut pending_space, 'o');
                'e'
            }
            'ø' | 'Ø' => 'o',
            'đ' | 'Đ' => 'd',
            'ł' | 'Ł' => 'l',
            c => c,
        };
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                push(&mut out, &mut pending_space, l);
            }
        } else {
            pending_space = !out.is_empty();
        }
    }
    out
}

fn push(out: &mut String, pending_space: &mut bool, c: char) {
    if *pending_space {
        out.push(' ');
        *pending_space = false;
    }
    out.push(c);
}

/// Optimal-string-alignment distance (Damerau-Levenshtein where a transposed pair counts one
/// edit), stopping early once the distance must exceed `max`: then `max + 1` is returned.
pub fn osa_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let w = b.len() + 1;
    let mut prev2 = vec![0usize; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut cur = vec![0usize; w];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()].min(max + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_case_and_punctuation() {
        assert_eq!(fold("« N'Djaména ! »"), "n djamena");
        assert_eq!(fold("  Abéché\t-- Ouaddaï "), "abeche ouaddai");
        assert_eq!(fold("Œuvre"), "oeuvre");
        assert_eq!(fold("!!!"), "");
        assert_eq!(fold("Mao2"), "mao2");
    }

    #[test]
    fn distance_counts_transpositions_once_and_stops_early() {
        assert_eq!(osa_distance("moundou", "moundou", 2), 0);
        assert_eq!(osa_distance("moundou", "mondou", 2), 1);
        assert_eq!(osa_distance("abeche", "abehce", 2), 1);
        assert_eq!(osa_distance("sarh", "sahr", 2), 1);
        assert_eq!(osa_distance("kitten", "sitting", 5), 3);
        assert_eq!(osa_distance("kitten", "sitting", 1), 2);
        assert_eq!(osa_distance("a", "abcdef", 2), 3);
        assert_eq!(osa_distance("", "ab", 3), 2);
    }
}
