//! Turns the global flags into a [`Connection`]: the standard chain, an endpoint, or the
//! embedded emulator.

use trailhead_provisioner::Connection;

use crate::ReachArgs;
use crate::emulator::Emulator;

pub fn connection(args: &ReachArgs) -> Result<Connection, String> {
    let conn = if args.emulator {
        let emulator = Emulator::locate(None);
        emulator
            .start(&mut |line| eprintln!("emulator: {line}"))
            .map_err(|e| e.to_string())?;
        let mut conn = Connection::emulator(emulator.endpoint(), emulator.ca_path());
        conn.read_region = args.region.clone();
        conn
    } else if let Some(url) = &args.endpoint_url {
        let mut conn = Connection::endpoint(url.clone(), args.ca_bundle.clone());
        conn.profile = args.profile.clone();
        conn.read_region = args.region.clone();
        conn
    } else {
        let mut conn = Connection::aws();
        conn.ca_bundle = args.ca_bundle.clone();
        conn.profile = args.profile.clone();
        conn.read_region = args.region.clone();
        conn
    };
    conn.prepare().map_err(|e| e.to_string())
}

/// [`connection`], then checks what can be checked before the first call: the endpoint answers
/// (a closed port fails now, not after minutes of retries), and credentials can be had. Each
/// failure is one line that says what to do.
pub async fn connect(args: &ReachArgs) -> Result<Connection, String> {
    let conn = connection(args)?;
    if let Some(url) = &conn.endpoint_url {
        reachable(url).await?;
    }
    if !args.emulator {
        // One configuration for both checks: loading it resolves the profile and its chain.
        let config = conn
            .base_config(conn.read_region.as_deref().unwrap_or("us-east-1"))
            .await;
        credentials(&config, args.profile.as_deref()).await?;
        if let Some(advice) = Connection::untrusted_certificate(&config).await {
            return Err(advice);
        }
    }
    Ok(conn)
}

async fn reachable(url: &str) -> Result<(), String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let address = if authority.contains(':') {
        authority.to_string()
    } else if url.starts_with("http://") {
        format!("{authority}:80")
    } else {
        format!("{authority}:443")
    };
    let attempt = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(&address),
    )
    .await;
    match attempt {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "cannot reach {url}: {e}; check --endpoint-url (for the embedded emulator: `trailhead emulator start`, or pass --emulator)"
        )),
        Err(_) => Err(format!(
            "cannot reach {url}: no answer within 5 s; check --endpoint-url"
        )),
    }
}

async fn credentials(config: &aws_config::SdkConfig, profile: Option<&str>) -> Result<(), String> {
    use aws_credential_types::provider::ProvideCredentials;
    use aws_credential_types::provider::error::CredentialsError;
    // A profile that is not there is a typo: say so before the SDK's default chain falls through
    // to the instance metadata service and fails with something about IMDS tokens.
    if let Some(name) = profile
        && !defined_profiles().iter().any(|p| p == name)
    {
        return Err(undefined_profile(name));
    }
    let Some(provider) = config.credentials_provider() else {
        return Err(no_credentials());
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(CredentialsError::CredentialsNotLoaded(_)) => Err(no_credentials()),
        Err(e) => Err(explain_credentials_error(&one_line(&e), profile)),
    }
}

/// The profiles the shared config and credentials files define (`[name]`, `[profile name]`),
/// each once, in the order they appear.
fn defined_profiles() -> Vec<String> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(default)))
    };
    [
        file("AWS_CONFIG_FILE", ".aws/config"),
        file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
    ]
    .into_iter()
    .flatten()
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .fold(Vec::new(), |mut found, text| {
        for section in text.lines().filter_map(|l| {
            let l = l.trim();
            l.strip_prefix('[')?.strip_suffix(']').map(str::trim)
        }) {
            // `[sso-session x]` and `[services x]` sections are not profiles.
            let name = match section.split_once(char::is_whitespace) {
                Some(("profile", name)) => name.trim(),
                Some(_) => continue,
                None => section,
            };
            if !found.iter().any(|f| f == name) {
                found.push(name.to_string());
            }
        }
        found
    })
}

fn undefined_profile(name: &str) -> String {
    let defined = defined_profiles();
    let which = if defined.is_empty() {
        "no profile is defined there".to_string()
    } else {
        format!("defined: {}", defined.join(", "))
    };
    format!(
        "the AWS profile `{name}` is not defined in ~/.aws/config or ~/.aws/credentials ({which})"
    )
}

fn no_credentials() -> String {
    "no AWS credentials found: set AWS_PROFILE or pass --profile, run `aws sso login`, or pass --emulator to use the embedded emulator".into()
}

/// The error and its sources on one line, without the SDK's Debug dumps.
fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn explain_credentials_error(text: &str, profile: Option<&str>) -> String {
    let lower = text.to_ascii_lowercase();
    let name = profile.unwrap_or("default");
    if lower.contains("profile")
        && (lower.contains("not defined")
            || lower.contains("could not find")
            || lower.contains("not found"))
    {
        undefined_profile(name)
    } else if let Some(detail) = trailhead_provisioner::error::untrusted_certificate_text(text) {
        trailhead_provisioner::error::untrusted_certificate_advice(&detail)
    } else if lower.contains("sso") && (lower.contains("expired") || lower.contains("token")) {
        format!(
            "the SSO session of profile `{name}` has expired or was never started: run `aws sso login --profile {name}`"
        )
    } else {
        format!("cannot get AWS credentials: {text}")
    }
}

/// The global flags that reproduce this way of reaching AWS, for printed commands.
pub fn flags(args: &ReachArgs) -> Vec<String> {
    let mut words = Vec::new();
    if args.emulator {
        words.push("--emulator".into());
    }
    if let Some(url) = &args.endpoint_url {
        words.extend(["--endpoint-url".into(), url.clone()]);
    }
    // With --emulator the emulator's own CA is used, whatever AWS_CA_BUNDLE says.
    if let Some(ca) = args.ca_bundle.as_ref().filter(|_| !args.emulator) {
        words.extend(["--ca-bundle".into(), ca.display().to_string()]);
    }
    if let Some(profile) = args.profile.as_ref().filter(|_| !args.emulator) {
        words.extend(["--profile".into(), profile.clone()]);
    }
    if let Some(region) = &args.region {
        words.extend(["--region".into(), region.clone()]);
    }
    words
}

pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // SDK futures are large in unoptimised builds; give workers room.
        .thread_stack_size(8 * 1024 * 1024)
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
