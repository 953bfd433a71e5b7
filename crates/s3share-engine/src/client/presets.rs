//! S3-compatible services as a person picks them when adding a connection: the endpoint's
//! shape (with the part only they know left as `<…>`), the region to sign for, path-style
//! addressing, and what each does not do that s3share offers.

/// One service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    /// The endpoint, `<placeholders>` for what the person fills in; empty for AWS.
    pub endpoint: &'static str,
    /// The region to sign for (the placeholder's default where it is part of the endpoint).
    pub region: &'static str,
    pub path_style: bool,
    /// Does it take browser-form (POST) uploads, which upload requests are?
    pub post_uploads: bool,
    /// The host suffix its endpoints end with (how a connection is recognised), if it has one.
    pub host_suffix: Option<&'static str>,
    /// What to know, in a sentence.
    pub note: &'static str,
}

/// The services offered, AWS first.
pub const PRESETS: [Preset; 8] = [
    Preset {
        name: "Amazon S3",
        endpoint: "",
        region: "us-east-1",
        path_style: false,
        post_uploads: true,
        host_suffix: Some(".amazonaws.com"),
        note: "The bucket's own region is found out by itself; the region here is only the first one asked.",
    },
    Preset {
        name: "Cloudflare R2",
        endpoint: "https://<account-id>.r2.cloudflarestorage.com",
        region: "auto",
        path_style: true,
        post_uploads: false,
        host_suffix: Some(".r2.cloudflarestorage.com"),
        note: "The account id is on the R2 overview page. R2 answers 501 to browser-form (POST) uploads: upload requests cannot work there.",
    },
    Preset {
        name: "Backblaze B2",
        endpoint: "https://s3.<region>.backblazeb2.com",
        region: "us-west-004",
        path_style: false,
        post_uploads: true,
        host_suffix: Some(".backblazeb2.com"),
        note: "The region is part of the bucket's S3 endpoint shown in the B2 console (us-west-004, eu-central-003…): put it in both fields.",
    },
    Preset {
        name: "Wasabi",
        endpoint: "https://s3.<region>.wasabisys.com",
        region: "us-east-1",
        path_style: false,
        post_uploads: true,
        host_suffix: Some(".wasabisys.com"),
        note: "Use the bucket's region in both fields (us-east-1, eu-central-1, ap-northeast-1…).",
    },
    Preset {
        name: "DigitalOcean Spaces",
        endpoint: "https://<region>.digitaloceanspaces.com",
        region: "nyc3",
        path_style: false,
        post_uploads: true,
        host_suffix: Some(".digitaloceanspaces.com"),
        note: "The region is the Space's datacenter (nyc3, ams3, sgp1, fra1…): put it in both fields.",
    },
    Preset {
        name: "MinIO",
        endpoint: "https://<host>:9000",
        region: "us-east-1",
        path_style: true,
        post_uploads: true,
        host_suffix: None,
        note: "The API port (9000 by default), not the console's (9001).",
    },
    Preset {
        name: "Ceph RGW",
        endpoint: "https://<host>",
        region: "default",
        path_style: true,
        post_uploads: true,
        host_suffix: None,
        note: "The region is the zonegroup's name (often default).",
    },
    Preset {
        name: "Garage",
        endpoint: "http://<host>:3900",
        region: "garage",
        path_style: true,
        post_uploads: true,
        host_suffix: None,
        note: "The region is s3_region in garage.toml (garage by default); the S3 API port is 3900.",
    },
];

impl Preset {
    /// The first `<placeholder>` still in `endpoint`, if any.
    pub fn placeholder(endpoint: &str) -> Option<&str> {
        let start = endpoint.find('<')?;
        let end = endpoint[start..].find('>')? + start;
        Some(&endpoint[start..=end])
    }

    /// The service behind `endpoint` when it is known to refuse browser-form (POST) uploads
    /// (Cloudflare R2): said before an upload request is made there.
    pub fn refusing_post(endpoint: Option<&str>) -> Option<&'static str> {
        Self::of_endpoint(endpoint?)
            .filter(|p| !p.post_uploads)
            .map(|p| p.name)
    }

    /// The service an endpoint URL belongs to, when its host says so (`None`: AWS's own
    /// endpoints, or a host that names no service).
    pub fn of_endpoint(endpoint: &str) -> Option<&'static Self> {
        let host = url::Url::parse(endpoint)
            .ok()?
            .host_str()?
            .to_ascii_lowercase();
        PRESETS.iter().find(|p| {
            p.host_suffix
                .is_some_and(|suffix| host.ends_with(suffix) && !p.endpoint.is_empty())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_known_by_their_hosts() {
        let r2 = Preset::of_endpoint("https://0123abcd.r2.cloudflarestorage.com").expect("R2");
        assert_eq!(r2.name, "Cloudflare R2");
        assert!(!r2.post_uploads);
        assert_eq!(
            Preset::of_endpoint("https://S3.us-west-004.BackblazeB2.com/").map(|p| p.name),
            Some("Backblaze B2")
        );
        assert!(Preset::of_endpoint("http://127.0.0.1:9000").is_none());
        assert!(Preset::of_endpoint("https://evil.example/r2.cloudflarestorage.com").is_none());
        assert!(Preset::of_endpoint("not a url").is_none());
    }

    #[test]
    fn every_template_says_what_to_fill_in() {
        for p in &PRESETS {
            assert!(!p.note.is_empty(), "{}", p.name);
            if p.endpoint.is_empty() {
                continue;
            }
            let hole = Preset::placeholder(p.endpoint).expect("a placeholder");
            assert!(hole.starts_with('<') && hole.ends_with('>'), "{hole}");
            // Filled in, it is an endpoint the connection accepts.
            let filled = p.endpoint.replace(hole, "x1");
            assert!(
                crate::client::endpoint::Endpoint::parse(&filled, true).is_ok(),
                "{filled}"
            );
        }
        assert_eq!(Preset::placeholder("https://h"), None);
    }
}
