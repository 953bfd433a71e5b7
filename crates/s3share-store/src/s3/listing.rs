//! ListObjectsV2 over the sorted index: one page of keys and common prefixes, pure and
//! independent of the rest of the store so its range logic can be tested on its own.
//!
//! Keys sort by their UTF-8 bytes, as S3 sorts them (and as `str`'s `Ord` does). A common prefix
//! is skipped in one step by moving to [`prefix_successor`], the smallest string greater than
//! every string that starts with it, so a listing ends for any key S3 allows (U+10FFFF
//! included), each common prefix appears once, and continuation tokens resume exactly after it.

use std::collections::BTreeMap;
use std::ops::Bound;

use base64::Engine as _;

/// The smallest string greater than every string starting with `prefix`, or `None` when there is
/// none (`prefix` is empty or all U+10FFFF).
///
/// Code points sort as their UTF-8 encodings do, so replacing the last character that is not
/// `char::MAX` with the next character (and dropping what follows it) gives exactly that bound.
pub fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = next_char(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value after `c` (skipping the surrogate gap).
fn next_char(c: char) -> Option<char> {
    match c {
        char::MAX => None,
        '\u{D7FF}' => Some('\u{E000}'),
        _ => char::from_u32(u32::from(c) + 1),
    }
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// From the start of the prefix.
    Start,
    /// `StartAfter`: keys after this one; a common prefix is listed only if it sorts after it.
    StartAfter(String),
    /// A continuation token: after this key.
    AfterKey(String),
    /// A continuation token: after everything under this common prefix.
    AfterPrefix(String),
}

impl Resume {
    /// The continuation token for a page that ended at `last`.
    pub fn token(&self) -> Option<String> {
        let (tag, text) = match self {
            Self::AfterKey(k) => ('K', k),
            Self::AfterPrefix(p) => ('P', p),
            Self::Start | Self::StartAfter(_) => return None,
        };
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{tag}{text}")))
    }

    /// Read a continuation token made by [`Resume::token`].
    pub fn from_token(token: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut chars = text.chars();
        match chars.next()? {
            'K' => Some(Self::AfterKey(chars.as_str().to_owned())),
            'P' => Some(Self::AfterPrefix(chars.as_str().to_owned())),
            _ => None,
        }
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub prefix: &'a str,
    /// `None` or empty: no grouping.
    pub delimiter: Option<&'a str>,
    pub max_keys: usize,
    pub resume: Resume,
}

/// One entry of a page.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a, V> {
    Object(&'a str, &'a V),
    Prefix(String),
}

/// One page of a listing.
#[derive(Debug)]
pub struct Page<'a, V> {
    pub items: Vec<Item<'a, V>>,
    /// Where the next page starts, when this one is truncated.
    pub next: Option<Resume>,
}

/// List one page of `index` for `q`. Visits each key under a common prefix at most once and
/// skips the rest of the group with one range step, so the work is bounded by the page size plus
/// the keys it passes over.
pub fn list_page<'a, V>(index: &'a BTreeMap<String, V>, q: &Query<'_>) -> Page<'a, V> {
    let delimiter = q.delimiter.filter(|d| !d.is_empty());
    let mut items = Vec::new();
    if q.max_keys == 0 {
        return Page { items, next: None };
    }
    let start_after = match &q.resume {
        Resume::StartAfter(s) => Some(s.as_str()),
        _ => None,
    };
    let mut lower: Bound<String> = match &q.resume {
        Resume::StartAfter(s) | Resume::AfterKey(s) if s.as_str() >= q.prefix => {
            Bound::Excluded(s.clone())
        }
        Resume::Start | Resume::StartAfter(_) | Resume::AfterKey(_) => {
            Bound::Included(q.prefix.to_owned())
        }
        Resume::AfterPrefix(p) => match prefix_successor(p) {
            Some(next) if next.as_str() > q.prefix => Bound::Included(next),
            Some(_) => Bound::Included(q.prefix.to_owned()),
            None => return Page { items, next: None },
        },
    };
    let mut last: Option<Resume> = None;
    'scan: loop {
        for (key, value) in index.range((lower.clone(), Bound::Unbounded)) {
            if !key.starts_with(q.prefix) {
                break 'scan;
            }
            let common = delimiter.and_then(|d| {
                key[q.prefix.len()..]
                    .find(d)
                    .map(|i| &key[..q.prefix.len() + i + d.len()])
            });
            let Some(common) = common else {
                if items.len() >= q.max_keys {
                    return Page { items, next: last };
                }
                items.push(Item::Object(key.as_str(), value));
                last = Some(Resume::AfterKey(key.clone()));
                continue;
            };
            // S3 leaves out a common prefix that does not sort after StartAfter.
            let listed = start_after.is_none_or(|s| common > s);
            if listed {
                if items.len() >= q.max_keys {
                    return Page { items, next: last };
                }
                items.push(Item::Prefix(common.to_owned()));
                last = Some(Resume::AfterPrefix(common.to_owned()));
            }
            match prefix_successor(common) {
                Some(next) => {
                    lower = Bound::Included(next);
                    continue 'scan;
                }
                None => break 'scan,
            }
        }
        break;
    }
    Page { items, next: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn index(keys: &[&str]) -> BTreeMap<String, u8> {
        keys.iter().map(|k| ((*k).to_owned(), 0)).collect()
    }

    /// Every entry of a listing, page after page, with the number of pages.
    fn list_all(
        idx: &BTreeMap<String, u8>,
        prefix: &str,
        delimiter: Option<&str>,
        page: usize,
        start_after: Option<&str>,
    ) -> (Vec<String>, usize) {
        let mut out = Vec::new();
        let mut resume = start_after.map_or(Resume::Start, |s| Resume::StartAfter(s.to_owned()));
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages <= idx.len() + 2, "the listing does not end");
            let p = list_page(
                idx,
                &Query {
                    prefix,
                    delimiter,
                    max_keys: page,
                    resume: resume.clone(),
                },
            );
            assert!(p.items.len() <= page);
            out.extend(p.items.into_iter().map(|i| match i {
                Item::Object(k, _) => k.to_owned(),
                Item::Prefix(p) => p,
            }));
            match p.next {
                Some(next) => {
                    // Through the token's text form, as a client would send it back.
                    let token = next.token().expect("a token");
                    resume = Resume::from_token(&token).expect("token parses");
                }
                None => return (out, pages),
            }
        }
    }

    /// The listing by brute force: every key in order, grouped.
    fn reference(
        idx: &BTreeMap<String, u8>,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for key in idx.keys() {
            if !key.starts_with(prefix) {
                continue;
            }
            let entry = match delimiter.and_then(|d| key[prefix.len()..].find(d).map(|i| (d, i))) {
                Some((d, i)) => key[..prefix.len() + i + d.len()].to_owned(),
                None => key.clone(),
            };
            let is_group = entry != *key;
            if let Some(s) = start_after {
                // Keys after StartAfter; groups that sort after it and hold such a key.
                if key.as_str() <= s || (is_group && entry.as_str() <= s) {
                    continue;
                }
            }
            if out.last() != Some(&entry) {
                out.push(entry);
            }
        }
        out
    }

    #[test]
    fn keys_with_the_last_code_point_end_and_list_each_folder_once() {
        let max = char::MAX;
        let keys = [
            "a/".to_owned() + &max.to_string() + "z",
            format!("a/{max}"),
            format!("a/{max}{max}"),
            "a/b".to_owned(),
            format!("b{max}/x"),
            "c".to_owned(),
        ];
        let idx: BTreeMap<String, u8> = keys.iter().map(|k| (k.clone(), 0)).collect();
        for page in 1..=4 {
            let (all, _) = list_all(&idx, "", Some("/"), page, None);
            assert_eq!(all, vec!["a/".to_owned(), format!("b{max}/"), "c".into()]);
            let (after, _) = list_all(&idx, "", Some("/"), page, Some("a/"));
            assert_eq!(after, vec![format!("b{max}/"), "c".into()]);
            let (inner, _) = list_all(&idx, "a/", Some("/"), page, None);
            assert_eq!(inner.len(), 4, "{inner:?}");
        }
    }

    #[test]
    fn successor_bounds_the_prefix_range() {
        assert_eq!(prefix_successor("a/").as_deref(), Some("a0"));
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_successor("\u{10FFFF}"), None);
        assert_eq!(prefix_successor(""), None);
    }

    #[test]
    fn zero_max_keys_is_an_empty_untruncated_page() {
        let idx = index(&["a", "b"]);
        let p = list_page(
            &idx,
            &Query {
                prefix: "",
                delimiter: None,
                max_keys: 0,
                resume: Resume::Start,
            },
        );
        assert!(p.items.is_empty() && p.next.is_none());
    }

    #[test]
    fn garbage_tokens_are_refused() {
        assert_eq!(Resume::from_token("!!!"), None);
        assert_eq!(Resume::from_token(""), None);
        let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("Xabc");
        assert_eq!(Resume::from_token(&other), None);
    }

    fn key_char() -> impl Strategy<Value = char> {
        prop_oneof![
            Just('a'),
            Just('b'),
            Just('/'),
            Just('-'),
            Just('é'),
            Just('\u{D7FF}'),
            Just('\u{E000}'),
            Just('\u{FFFF}'),
            Just(char::MAX),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        proptest::collection::vec(key_char(), 1..7).prop_map(|c| c.into_iter().collect())
    }

    proptest! {
        #[test]
        fn successor_is_the_least_upper_bound(p in key(), s in key()) {
            match prefix_successor(&p) {
                Some(next) => {
                    prop_assert!(!next.starts_with(&p));
                    if s.starts_with(&p) {
                        prop_assert!(s < next);
                    } else if s > p {
                        prop_assert!(s >= next);
                    }
                }
                None => prop_assert!(p.chars().all(|c| c == char::MAX)),
            }
        }

        #[test]
        fn paging_matches_the_brute_force_listing(
            keys in proptest::collection::btree_set(key(), 0..40),
            prefix in proptest::collection::vec(key_char(), 0..3),
            delimiter in prop_oneof![Just(None), Just(Some("/")), Just(Some("\u{10FFFF}")), Just(Some("a/"))],
            page in 1usize..6,
            start_after in proptest::option::of(key()),
        ) {
            let idx: BTreeMap<String, u8> = keys.into_iter().map(|k| (k, 0)).collect();
            let prefix: String = prefix.into_iter().collect();
            let (paged, _) = list_all(&idx, &prefix, delimiter, page, start_after.as_deref());
            let expected = reference(&idx, &prefix, delimiter, start_after.as_deref());
            prop_assert_eq!(paged, expected);
        }
    }
}
