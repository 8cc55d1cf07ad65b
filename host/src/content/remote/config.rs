//! Opening a bucket from its URL and the standard AWS settings, so that
//! AWS, MinIO and Ceph all work as they do for the AWS CLI:
//!
//! - the `AWS_*` variables object_store reads (`AWS_ACCESS_KEY_ID`,
//!   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
//!   `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`, ...);
//! - else the profile `AWS_PROFILE` (default `default`) of the shared files
//!   `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE`,
//!   `AWS_CONFIG_FILE`): `aws_access_key_id`, `aws_secret_access_key`,
//!   `aws_session_token`, `region` and `endpoint_url`.
//!
//! An `http://` endpoint (a local MinIO or Ceph) is allowed because it was
//! asked for; addressing is path-style unless
//! `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`.

use std::collections::HashMap;
use std::path::PathBuf;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use super::{RemoteError, Result, retry_timeout};

/// A bucket opened from a URL.
pub struct Opened {
    /// The client.
    pub store: Box<dyn ObjectStore>,
    /// The key prefix, empty or ending in `/`.
    pub prefix: String,
}

/// Opens `url` (`s3://bucket[/prefix]`).
pub fn build(url: &str) -> Result<Opened> {
    let bad = |message: String| RemoteError::Config {
        url: url.to_owned(),
        message,
    };
    let Some(rest) = url.strip_prefix("s3://") else {
        return Err(bad(
            "expected s3://bucket/prefix (an S3-compatible bucket: AWS, MinIO, Ceph)".into(),
        ));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("the URL names no bucket".into()));
    }
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    // The rustls that reqwest uses here has no provider of its own: the
    // ring one djx builds for PostgreSQL's TLS serves it too.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    for (key, value) in shared_files_profile() {
        if builder.get_config_value(&key).is_none() {
            builder = builder.with_config(key, value);
        }
    }
    if builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .is_none()
    {
        builder = builder.with_region("us-east-1");
    }
    let endpoint = builder
        .get_config_value(&AmazonS3ConfigKey::Endpoint)
        .unwrap_or_default();
    let timeout = retry_timeout().map_err(bad)?;
    let store = builder
        .with_allow_http(endpoint.starts_with("http://"))
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 10,
            retry_timeout: timeout,
        })
        .with_client_options(
            ClientOptions::new()
                .with_allow_http(endpoint.starts_with("http://"))
                .with_connect_timeout(std::time::Duration::from_secs(5)),
        )
        .build()
        .map_err(|e| bad(e.to_string()))?;
    Ok(Opened {
        store: Box::new(store),
        prefix,
    })
}

/// The settings of the AWS profile in the shared files.
fn shared_files_profile() -> Vec<(AmazonS3ConfigKey, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let home = var("HOME").map(PathBuf::from);
    let profile = var("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let file = |var_name: &str, name: &str| {
        var(var_name)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let mut settings = HashMap::new();
    // The config file names a profile `[profile NAME]` (but `[default]`).
    if let Some(text) =
        file("AWS_CONFIG_FILE", "config").and_then(|p| std::fs::read_to_string(p).ok())
    {
        let section = if profile == "default" {
            "default".to_owned()
        } else {
            format!("profile {profile}")
        };
        settings.extend(ini_section(&text, &section));
    }
    if let Some(text) = file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        settings.extend(ini_section(&text, &profile));
    }
    let keys = [
        ("aws_access_key_id", AmazonS3ConfigKey::AccessKeyId),
        ("aws_secret_access_key", AmazonS3ConfigKey::SecretAccessKey),
        ("aws_session_token", AmazonS3ConfigKey::Token),
        ("region", AmazonS3ConfigKey::Region),
        ("endpoint_url", AmazonS3ConfigKey::Endpoint),
    ];
    keys.into_iter()
        .filter_map(|(name, key)| settings.remove(name).map(|v| (key, v)))
        .collect()
}

/// The `key = value` lines of section `[name]` of an INI text.
fn ini_section(text: &str, name: &str) -> HashMap<String, String> {
    let mut inside = false;
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = header.trim() == name;
        } else if inside && let Some((k, v)) = line.split_once('=') {
            out.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_profile_of_an_ini_file() {
        let text = "[default]\nregion = eu-west-1\n\n[profile lab]\n# a comment\n\
                    endpoint_url = http://ceph:7480\nAWS_ACCESS_KEY_ID=abc\n";
        let lab = ini_section(text, "profile lab");
        assert_eq!(
            lab.get("endpoint_url").map(String::as_str),
            Some("http://ceph:7480")
        );
        assert_eq!(
            lab.get("aws_access_key_id").map(String::as_str),
            Some("abc")
        );
        assert!(!lab.contains_key("region"));
        assert_eq!(
            ini_section(text, "default")
                .get("region")
                .map(String::as_str),
            Some("eu-west-1")
        );
    }

    #[test]
    fn refuses_urls_it_cannot_serve() {
        for url in ["gs://bucket/x", "s3://", "/tmp/content"] {
            let Err(e) = build(url) else {
                panic!("{url} was accepted");
            };
            assert!(e.to_string().contains(url), "{e}");
        }
    }
}
