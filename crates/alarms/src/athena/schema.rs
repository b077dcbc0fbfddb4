//! The CloudTrail table as Athena sees it: which JSON field of a record lands in which column, and
//! with what type. The translation reads it to know what a selector reaches; the table definition
//! is written from it, so the two cannot disagree.

/// What a record field becomes in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON string, in a STRING column.
    Text,
    /// A JSON boolean, in a STRING column as `true` / `false`.
    Flag,
    /// A JSON object of known fields, in a STRUCT.
    Struct(&'static [Field]),
    /// A free-form JSON document (request parameters, response elements...), kept as its JSON
    /// text in a STRING column. CloudTrail writes `null` here when there is none.
    Document,
    /// A column the translation does not reach into; the Hive type it has.
    Opaque(&'static str),
}

/// One field of a record (or of a struct): its JSON key, exactly as CloudTrail writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
}

const fn text(key: &'static str) -> Field {
    Field {
        key,
        kind: Kind::Text,
    }
}

const fn nested(key: &'static str, fields: &'static [Field]) -> Field {
    Field {
        key,
        kind: Kind::Struct(fields),
    }
}

const fn document(key: &'static str) -> Field {
    Field {
        key,
        kind: Kind::Document,
    }
}

const ON_BEHALF_OF: &[Field] = &[text("userId"), text("identityStoreArn")];
const ATTRIBUTES: &[Field] = &[text("mfaAuthenticated"), text("creationDate")];
const SESSION_ISSUER: &[Field] = &[
    text("type"),
    text("principalId"),
    text("arn"),
    text("accountId"),
    text("userName"),
];
const WEB_IDENTITY: &[Field] = &[
    text("federatedProvider"),
    Field {
        key: "attributes",
        kind: Kind::Opaque("MAP<STRING,STRING>"),
    },
];
const SESSION_CONTEXT: &[Field] = &[
    nested("attributes", ATTRIBUTES),
    nested("sessionIssuer", SESSION_ISSUER),
    text("ec2RoleDelivery"),
    nested("webIdFederationData", WEB_IDENTITY),
];
const USER_IDENTITY: &[Field] = &[
    text("type"),
    text("principalId"),
    text("arn"),
    text("accountId"),
    text("invokedBy"),
    text("accessKeyId"),
    text("userName"),
    nested("onBehalfOf", ON_BEHALF_OF),
    nested("sessionContext", SESSION_CONTEXT),
];
const ADDENDUM: &[Field] = &[
    text("reason"),
    text("updatedFields"),
    text("originalRequestID"),
    text("originalEventID"),
];
const TLS_DETAILS: &[Field] = &[
    text("tlsVersion"),
    text("cipherSuite"),
    text("clientProvidedHostHeader"),
];

/// The record fields of CloudTrail's documented Athena table, in its column order.
pub const CLOUDTRAIL: &[Field] = &[
    text("eventVersion"),
    nested("userIdentity", USER_IDENTITY),
    text("eventTime"),
    text("eventSource"),
    text("eventName"),
    text("awsRegion"),
    text("sourceIPAddress"),
    text("userAgent"),
    text("errorCode"),
    text("errorMessage"),
    document("requestParameters"),
    document("responseElements"),
    document("additionalEventData"),
    text("requestID"),
    text("eventID"),
    Field {
        key: "readOnly",
        kind: Kind::Flag,
    },
    Field {
        key: "resources",
        kind: Kind::Opaque("ARRAY<STRUCT<arn:STRING,accountid:STRING,type:STRING>>"),
    },
    text("eventType"),
    text("apiVersion"),
    text("recipientAccountId"),
    document("serviceEventDetails"),
    text("sharedEventID"),
    text("vpcEndpointId"),
    text("vpcEndpointAccountId"),
    text("eventCategory"),
    nested("addendum", ADDENDUM),
    text("sessionCredentialFromConsole"),
    document("edgeDeviceDetails"),
    nested("tlsDetails", TLS_DETAILS),
];

/// Where a pattern's selectors land: the typed CloudTrail table, or one column that holds each
/// whole event as JSON text (how a table of arbitrary JSON logs is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    CloudTrail,
    Document(&'static str),
}

/// Column and struct field names as Hive keeps them: lower case.
pub fn column_name(key: &str) -> String {
    key.to_ascii_lowercase()
}

/// The Hive type of a field, for the table definition.
pub fn hive_type(kind: Kind) -> String {
    match kind {
        Kind::Text | Kind::Flag | Kind::Document => "STRING".into(),
        Kind::Opaque(t) => t.into(),
        Kind::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", column_name(f.key), hive_type(f.kind)))
                .collect();
            format!("STRUCT<{}>", inner.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_types_spell_out_every_field() {
        let identity = CLOUDTRAIL
            .iter()
            .find(|f| f.key == "userIdentity")
            .map(|f| hive_type(f.kind));
        let identity = identity.unwrap_or_default();
        assert!(identity.starts_with("STRUCT<type:STRING,principalid:STRING"));
        assert!(identity.contains("sessionissuer:STRUCT<type:STRING"));
        assert!(identity.contains("attributes:MAP<STRING,STRING>"));
    }

    #[test]
    fn keys_are_unique_without_case() {
        let mut names: Vec<String> = CLOUDTRAIL.iter().map(|f| column_name(f.key)).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
