//! AWS Signature V4's primitives: the signing key derived from a secret, a day and a region;
//! the signature of a string to sign; SigV4's URI encoding. The engine builds presigned links
//! and POST policies on them, and the store checks POST-form signatures with them.

use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex SHA-256 of `data` (the hashed canonical request).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The signing key for `secret` on `date` (`YYYYMMDD`) in `region`, for service `s3`.
pub fn derive_signing_key(secret: &str, date: &str, region: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    hmac(&k_service, b"aws4_request")
}

/// The signing key depends only on the secret, the day and the region: derive it once per
/// thread for the current triple instead of four HMACs per signature.
pub fn signing_key(secret: &str, date: &str, region: &str) -> [u8; 32] {
    type Cached = Option<(Secret, String, String, [u8; 32])>;
    thread_local! {
        static LAST_KEY: std::cell::RefCell<Cached> = const { std::cell::RefCell::new(None) };
    }
    LAST_KEY.with_borrow_mut(|cached| {
        if let Some((s, d, r, key)) = cached.as_ref()
            && s.expose() == secret
            && d == date
            && r == region
        {
            return *key;
        }
        let key = derive_signing_key(secret, date, region);
        *cached = Some((Secret::new(secret), date.to_owned(), region.to_owned(), key));
        key
    })
}

/// The SigV4 signature (lower-case hex) of `string_to_sign` by `secret` on `date` in `region`.
pub fn signature(secret: &str, date: &str, region: &str, string_to_sign: &str) -> String {
    hex::encode(hmac(
        &signing_key(secret, date, region),
        string_to_sign.as_bytes(),
    ))
}

/// The SigV4 signature of a POST policy (the base64 text itself is the string to sign): what a
/// browser form carries in `x-amz-signature`.
pub fn sign_post_policy(secret: &str, date: &str, region: &str, policy_base64: &str) -> String {
    signature(secret, date, region, policy_base64)
}

/// SigV4's URI encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX` (upper-case hex). With
/// `encode_slash` false, `/` stays (paths); true encodes it too (query names and values).
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    for &b in s.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (b == b'/' && !encode_slash);
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// Compare two signatures in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_keys_byte_by_byte() {
        assert_eq!(
            uri_encode("/a b/+%#?&=~//é😀", false),
            "/a%20b/%2B%25%23%3F%26%3D~//%C3%A9%F0%9F%98%80"
        );
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
    }

    /// AWS's documented signing-key example ("Deriving the signing key", 20150830, us-east-1,
    /// service iam): checked here for service s3 against an independent derivation.
    #[test]
    fn the_cached_key_is_the_derived_key() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        for (date, region) in [("20150830", "us-east-1"), ("20150831", "eu-west-1")] {
            assert_eq!(
                signing_key(secret, date, region),
                derive_signing_key(secret, date, region)
            );
        }
        assert_ne!(
            derive_signing_key(secret, "20150830", "us-east-1"),
            derive_signing_key(secret, "20150830", "us-east-2")
        );
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
