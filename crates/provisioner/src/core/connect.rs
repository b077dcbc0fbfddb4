//! How trailhead reaches AWS. There is one code path: the emulator differs from AWS only in the
//! endpoint, the credentials and the CA it is trusted through.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::ProvisionError;

/// The credentials moto accepts; they grant nothing anywhere else.
const EMULATOR_KEY: &str = "testing";

/// A bulk rollout makes thousands of calls against per-account quotas: it retries more, and
/// backs off longer, than the SDK's default of three attempts.
pub fn default_retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(10)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(20))
}

#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// `--endpoint-url` / `AWS_ENDPOINT_URL`: every service at this URL.
    pub endpoint_url: Option<String>,
    /// Extra CA certificates (PEM) to trust besides the system roots.
    pub ca_bundle: Option<PathBuf>,
    /// Use the emulator's fixed test credentials instead of the standard chain.
    pub emulator_credentials: bool,
    /// `--profile`: this profile of the shared config and credentials files, as the aws CLI.
    pub profile: Option<String>,
    /// `--region`: where the caller's own session reads organization-wide state (STS,
    /// Organizations, the organization's trails), as the aws CLI's --region. The spec still
    /// places every regional resource.
    pub read_region: Option<String>,
    http_client: Option<SharedHttpClient>,
    /// `None`: [`default_retry`].
    retry: Option<RetryConfig>,
    /// The base configuration of each region, loaded once (profiles, environment, credential
    /// chain) and shared by every session of the run and by its clones.
    loaded: Arc<Mutex<BTreeMap<String, SdkConfig>>>,
}

impl Connection {
    /// The standard credential chain and region: profiles, environment, SSO, credential_process.
    pub fn aws() -> Self {
        Connection::default()
    }

    pub fn endpoint(endpoint_url: String, ca_bundle: Option<PathBuf>) -> Self {
        Connection {
            endpoint_url: Some(endpoint_url),
            ca_bundle,
            ..Connection::default()
        }
    }

    pub fn emulator(endpoint_url: String, ca: PathBuf) -> Self {
        Connection {
            endpoint_url: Some(endpoint_url),
            ca_bundle: Some(ca),
            emulator_credentials: true,
            ..Connection::default()
        }
    }

    pub fn is_custom_endpoint(&self) -> bool {
        self.endpoint_url.is_some()
    }

    /// Builds the HTTPS client once. Every account shares it, so connections are pooled across
    /// the whole run; credentials and retries are kept per account elsewhere.
    pub fn prepare(mut self) -> Result<Self, ProvisionError> {
        let mut trust = TrustStore::default();
        if let Some(path) = &self.ca_bundle {
            let pem = std::fs::read(path).map_err(|source| ProvisionError::Io {
                action: "read the CA bundle",
                path: path.display().to_string(),
                source,
            })?;
            trust = trust.with_pem_certificate(pem);
        }
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|e| ProvisionError::Config(format!("cannot build the TLS context: {e}")))?;
        let client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(context)
            .build_https();
        self.http_client = Some(client);
        self.loaded = Arc::default();
        Ok(self)
    }

    /// Retries with other settings (tests back off in milliseconds, not seconds).
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self.loaded = Arc::default();
        self
    }

    /// Puts a layer around the HTTP client (after [`Connection::prepare`]): fault and latency
    /// injection in tests and benchmarks, or a recording client when debugging.
    pub fn wrap_http_client(
        mut self,
        wrap: impl FnOnce(SharedHttpClient) -> SharedHttpClient,
    ) -> Self {
        if let Some(client) = self.http_client.take() {
            self.http_client = Some(wrap(client));
        }
        self.loaded = Arc::default();
        self
    }

    /// The configuration of the caller's own identity (the management account) in `region`:
    /// loaded the first time a region is asked for, then the same one (its credentials provider
    /// and identity cache included) for every session after.
    pub async fn base_config(&self, region: &str) -> SdkConfig {
        let cached = self.loaded.lock().ok().and_then(|m| m.get(region).cloned());
        if let Some(config) = cached {
            return config;
        }
        let config = self.load_config(region).await;
        if let Ok(mut m) = self.loaded.lock() {
            m.entry(region.to_string())
                .or_insert_with(|| config.clone());
        }
        config
    }

    /// How many regions' base configurations have been loaded.
    pub fn loaded_regions(&self) -> usize {
        self.loaded.lock().map(|m| m.len()).unwrap_or(0)
    }

    async fn load_config(&self, region: &str) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(self.retry.clone().unwrap_or_else(default_retry));
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(client) = &self.http_client {
            loader = loader.http_client(client.clone());
        }
        if self.emulator_credentials {
            loader = loader.credentials_provider(Credentials::new(
                EMULATOR_KEY,
                EMULATOR_KEY,
                None,
                None,
                "trailhead-emulator",
            ));
        }
        loader.load().await
    }

    /// One call without retries, to find an untrusted TLS certificate now: the SDK treats a
    /// failed handshake as transient and retries it for half a minute before printing its dump.
    /// The advice to give when the certificate is not trusted; any other outcome is left to the
    /// command, which names it with its account, region and step.
    pub async fn untrusted_certificate(config: &SdkConfig) -> Option<String> {
        use crate::core::error::{untrusted_certificate, untrusted_certificate_advice};
        let sts = aws_sdk_sts::config::Builder::from(config)
            .retry_config(RetryConfig::disabled())
            .build();
        let probe = aws_sdk_sts::Client::from_conf(sts)
            .get_caller_identity()
            .send()
            .await;
        match probe {
            Err(e @ aws_sdk_sts::error::SdkError::DispatchFailure(_)) => {
                untrusted_certificate(&e).map(|detail| untrusted_certificate_advice(&detail))
            }
            _ => None,
        }
    }

    /// S3 needs path-style addressing behind a custom endpoint: `bucket.127.0.0.1` resolves
    /// nowhere, and a custom CA rarely covers wildcard bucket hosts.
    pub fn s3_client(&self, config: &SdkConfig) -> aws_sdk_s3::Client {
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(self.is_custom_endpoint())
            .build();
        aws_sdk_s3::Client::from_conf(s3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_regions_base_configuration_is_loaded_once_and_shared_by_clones() {
        let conn =
            Connection::emulator("https://127.0.0.1:1".into(), PathBuf::from("/nonexistent"));
        let first = conn.base_config("eu-west-1").await;
        let clone = conn.clone();
        let again = clone.base_config("eu-west-1").await;
        assert_eq!(conn.loaded_regions(), 1);
        assert_eq!(first.region(), again.region());
        conn.base_config("us-east-1").await;
        assert_eq!(clone.loaded_regions(), 2);
        // Other retries make another configuration: nothing loaded before is reused.
        let retried = conn.with_retry(RetryConfig::disabled());
        assert_eq!(retried.loaded_regions(), 0);
    }
}
