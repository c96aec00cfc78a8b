//! "Did you mean": the closest candidate by edit distance.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    let limit = (word.chars().count() / 3).max(1);
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| {
            // Case and `-`/`_` differences are cheap (io-network → IoNetwork).
            let folded = c.to_lowercase().replace(['-', '_'], "");
            let d = if folded == lower.replace(['-', '_'], "") {
                0
            } else {
                distance(&lower, &c.to_lowercase())
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= limit)
        // The name itself breaks ties, so the answer never depends on candidate order.
        .min_by_key(|(d, c)| (*d, c.len(), *c))
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance over chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos() {
        assert_eq!(
            closest("lenght", ["length", "list"]).as_deref(),
            Some("length")
        );
        assert_eq!(
            closest("io-network", ["IoNetwork", "IoPersist"]).as_deref(),
            Some("IoNetwork")
        );
        assert_eq!(closest("zzzzzz", ["length"]), None);
    }
}
