use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// An AWS call that failed, with everything a person needs to find it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub account: String,
    pub region: String,
    pub step: String,
    pub operation: String,
    /// The AWS error code (`AccessDenied`, `ThrottlingException`…), or the kind of transport
    /// failure when no response came back (`DispatchFailure`, `TimeoutError`).
    pub code: String,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "account {} region {} step {}: {} failed with {}: {}",
            self.account, self.region, self.step, self.operation, self.code, self.message
        )
    }
}

impl std::error::Error for AwsError {}

/// Where a call was made, so that its error can say so.
#[derive(Debug, Clone)]
pub struct CallSite {
    pub account: String,
    pub region: String,
    pub step: String,
}

impl CallSite {
    pub fn new(
        account: impl Into<String>,
        region: impl Into<String>,
        step: impl Into<String>,
    ) -> Self {
        CallSite {
            account: account.into(),
            region: region.into(),
            step: step.into(),
        }
    }

    pub fn error<E>(&self, operation: &str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let (code, message) = describe(&err);
        AwsError {
            account: self.account.clone(),
            region: self.region.clone(),
            step: self.step.clone(),
            operation: operation.to_string(),
            code,
            message,
        }
    }

    /// `value`, a field every such answer of `operation` carries; its absence is an error that
    /// names where it happened, never an empty string that later reads as a real value.
    pub fn require<'a, T: ?Sized>(
        &self,
        value: Option<&'a T>,
        operation: &str,
        field: &'static str,
    ) -> Result<&'a T, ProvisionError> {
        value.ok_or_else(|| self.missing(operation, field))
    }

    /// The error of an answer of `operation` that lacks `field`.
    pub fn missing(&self, operation: &str, field: &'static str) -> ProvisionError {
        ProvisionError::MissingField {
            account: self.account.clone(),
            region: self.region.clone(),
            step: self.step.clone(),
            operation: operation.to_string(),
            field,
        }
    }
}

/// The AWS error code and message of an SDK error, or its transport failure kind.
pub fn describe<E>(err: &SdkError<E, HttpResponse>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let kind = match err {
        SdkError::ConstructionFailure(_) => "ConstructionFailure",
        SdkError::TimeoutError(_) => "TimeoutError",
        SdkError::DispatchFailure(_) => "DispatchFailure",
        SdkError::ResponseError(_) => "ResponseError",
        SdkError::ServiceError(_) => "ServiceError",
        _ => "Unknown",
    };
    // An answer that is not the service's error shape (an HTML 500 page, say) has no code:
    // name its HTTP status and the start of its body rather than the SDK's whole debug dump.
    if err.code().is_none()
        && let Some(raw) = err.raw_response()
    {
        let status = raw.status().as_u16();
        let body = raw
            .body()
            .bytes()
            .map(|b| {
                String::from_utf8_lossy(b)
                    .chars()
                    .take(120)
                    .collect::<String>()
            })
            .unwrap_or_default();
        let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
        return (
            format!("HTTP{status}"),
            format!(
                "the endpoint answered HTTP {status} without an AWS error ({body}); it may not implement this operation"
            ),
        );
    }
    if let SdkError::DispatchFailure(_) = err
        && let Some(found) = credentials_failure(err)
    {
        return found;
    }
    if let SdkError::DispatchFailure(_) = err
        && let Some(detail) = untrusted_certificate(err)
    {
        return (
            "TlsCertificate".into(),
            untrusted_certificate_advice(&detail),
        );
    }
    let code = err.code().unwrap_or(kind).to_string();
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| DisplayErrorContext(err).to_string());
    (code, message)
}

/// The certificate complaint in an error's chain, if a TLS handshake failed on it: the endpoint
/// (a private emulator, or a corporate proxy in front of AWS) is signed by a CA that is not
/// trusted. Not transient: retrying it only delays the same answer.
pub fn untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    // The deepest matching source is the handshake's own words ("invalid peer certificate: …").
    let mut found = None;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        found = untrusted_certificate_text(&e.to_string()).or(found);
        current = e.source();
    }
    found
}

/// [`untrusted_certificate`] for an error already flattened to text (a credentials provider's):
/// the clause that names the certificate, to the end.
pub fn untrusted_certificate_text(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let at = lower
        .find("certificate")
        .or_else(|| lower.find("unknownissuer"))?;
    let start = text[..at].rfind(": ").map_or(0, |i| i + 2);
    Some(text[start..].trim().to_string())
}

/// What to do about [`untrusted_certificate`], in one line.
pub fn untrusted_certificate_advice(detail: &str) -> String {
    format!(
        "the endpoint's TLS certificate is not trusted ({detail}); pass the CA that signed it with --ca-bundle FILE or AWS_CA_BUNDLE (for a corporate TLS proxy, its CA)"
    )
}

/// A call that never left because its credentials could not be had: for an account's session,
/// the AssumeRole of its access role failed. Its code and message, not the SDK's nested dump.
fn credentials_failure(err: &(dyn std::error::Error + 'static)) -> Option<(String, String)> {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(CredentialsError::ProviderError(_)) = e.downcast_ref::<CredentialsError>() {
            let mut inner = e.source();
            while let Some(i) = inner {
                if let Some(sts) = i.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
                    let code = sts.code().unwrap_or("AccessDenied").to_string();
                    let message = sts.message().unwrap_or_default();
                    return Some((code, format!("cannot assume the access role: {message}")));
                }
                inner = i.source();
            }
        }
        source = e.source();
    }
    None
}

/// The code of an SDK error, for matching expected failures such as `NoSuchBucket`.
pub fn code_of<E, R>(err: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    err.code()
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Aws(Box<AwsError>),
    #[error("{0}")]
    Config(String),
    /// An AWS answer without a field every such answer has.
    #[error("{account} {region} {step}: {operation} answered without its {field}")]
    MissingField {
        account: String,
        region: String,
        step: String,
        operation: String,
        field: &'static str,
    },
    /// An account named on the command line that the spec does not govern.
    #[error("{0}")]
    UnknownAccount(String),
    #[error("account {account}: the Athena query {id} ended {state}: {reason}")]
    Query {
        account: String,
        id: String,
        state: String,
        reason: String,
    },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<AwsError> for ProvisionError {
    fn from(e: AwsError) -> Self {
        ProvisionError::Aws(Box::new(e))
    }
}

/// The event of a step that failed with `err`.
pub fn step_failed(
    err: &AwsError,
    duration_ms: u64,
    api_calls: u64,
    retries: u64,
) -> crate::events::Event {
    crate::events::Event::StepFailed {
        account: err.account.clone(),
        region: err.region.clone(),
        step: err.step.clone(),
        operation: err.operation.clone(),
        error_code: err.code.clone(),
        message: err.message.clone(),
        duration_ms,
        api_calls,
        retries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_is_an_error_that_says_where_never_an_empty_string() {
        let site = CallSite::new("111111111111", "eu-west-1", "read organization");
        assert_eq!(
            site.require(Some("o-abc"), "DescribeOrganization", "Id")
                .ok(),
            Some("o-abc")
        );
        let missing = site.require::<str>(None, "DescribeOrganization", "Organization.Id");
        assert_eq!(
            missing.err().map(|e| e.to_string()).as_deref(),
            Some(
                "111111111111 eu-west-1 read organization: DescribeOrganization answered without its Organization.Id"
            )
        );
    }

    #[test]
    fn the_certificate_clause_is_found_and_kept_whole() {
        assert_eq!(
            untrusted_certificate_text(
                "dispatch failure: io error: client error (Connect): invalid peer certificate: UnknownIssuer"
            )
            .as_deref(),
            Some("invalid peer certificate: UnknownIssuer")
        );
        assert_eq!(
            untrusted_certificate_text("io error: connection refused"),
            None
        );
        assert!(
            untrusted_certificate_advice("invalid peer certificate: UnknownIssuer")
                .contains("--ca-bundle")
        );
    }
}
