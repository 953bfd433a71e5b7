//! Presigning 10,000 GET links in one process (goal: at most 50 ms in all).
//! Run: `cargo bench --bench presign`. Signing is local: no network, no server.

use std::time::{Duration, Instant, SystemTime};

use s3share_engine::Expiry;
use s3share_engine::base::signing::{PresignInput, Secret, SigningCredentials, presign};

fn main() {
    let creds = SigningCredentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        session_token: None,
        expires_at: None,
    };
    let keys: Vec<String> = (0..10_000)
        .map(|i| format!("/shared/reports/2026/report {i} é.pdf"))
        .collect();
    let mut best = Duration::MAX;
    let mut total_len = 0;
    for _round in 0..5 {
        let start = Instant::now();
        for key in &keys {
            let link = presign(
                &creds,
                &PresignInput {
                    method: "GET",
                    scheme: "https",
                    authority: "s3.eu-west-1.amazonaws.com",
                    path: key,
                    query: &[],
                    headers: &[],
                    region: "eu-west-1",
                    expires: Expiry::DEFAULT,
                    now: SystemTime::now(),
                },
            );
            total_len += link.url().len();
        }
        best = best.min(start.elapsed());
    }
    if cfg!(debug_assertions) {
        println!(
            "(debug build, as under `cargo test`: not a measurement; use `cargo bench --bench presign`)"
        );
    }
    println!(
        "presign: 10000 GET links in {:.1} ms (best of 5 rounds; {:.2} us per link; {} bytes of URLs)",
        best.as_secs_f64() * 1000.0,
        best.as_secs_f64() * 1e6 / 10_000.0,
        total_len / 5
    );
}
