use std::fmt;

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

    pub fn error<E, R>(&self, operation: &str, err: SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
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
}

/// The AWS error code and message of an SDK error, or its transport failure kind.
pub fn describe<E, R>(err: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let kind = match err {
        SdkError::ConstructionFailure(_) => "ConstructionFailure",
        SdkError::TimeoutError(_) => "TimeoutError",
        SdkError::DispatchFailure(_) => "DispatchFailure",
        SdkError::ResponseError(_) => "ResponseError",
        SdkError::ServiceError(_) => "ServiceError",
        _ => "Unknown",
    };
    let code = err.code().unwrap_or(kind).to_string();
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| DisplayErrorContext(err).to_string());
    (code, message)
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
