//! Typed policy documents with deterministic JSON: fields in AWS's order, condition operators and
//! keys sorted, and one value written as a string rather than a one-element array.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// Account roots (`arn:aws:iam::123456789012:root`) or principal ARNs.
    Aws(Vec<String>),
    /// Service principals such as `cloudtrail.amazonaws.com`.
    Service(Vec<String>),
}

/// operator (e.g. `StringEquals`) → condition key → values (OR'ed).
pub type Condition = BTreeMap<String, BTreeMap<String, Vec<String>>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: String,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub action: Vec<String>,
    /// When set, the statement applies to every action except these.
    pub not_action: bool,
    pub resource: Vec<String>,
    pub condition: Condition,
}

impl Statement {
    pub fn new(sid: &str, effect: Effect) -> Self {
        Statement {
            sid: sid.to_string(),
            effect,
            principal: None,
            action: Vec::new(),
            not_action: false,
            resource: Vec::new(),
            condition: Condition::new(),
        }
    }

    pub fn principal(mut self, p: Principal) -> Self {
        self.principal = Some(p);
        self
    }

    pub fn actions<S: AsRef<str>>(mut self, actions: &[S]) -> Self {
        self.action = actions.iter().map(|a| a.as_ref().to_string()).collect();
        self
    }

    pub fn resources<S: AsRef<str>>(mut self, resources: &[S]) -> Self {
        self.resource = resources.iter().map(|r| r.as_ref().to_string()).collect();
        self
    }

    pub fn when<S: AsRef<str>>(mut self, operator: &str, key: &str, values: &[S]) -> Self {
        self.condition
            .entry(operator.to_string())
            .or_default()
            .insert(
                key.to_string(),
                values.iter().map(|v| v.as_ref().to_string()).collect(),
            );
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statements: Vec<Statement>) -> Self {
        PolicyDocument { statements }
    }

    /// Minified JSON, as sent to AWS.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn statement(&self, sid: &str) -> Option<&Statement> {
        self.statements.iter().find(|s| s.sid == sid)
    }
}

struct OneOrMany<'a>(&'a [String]);

impl Serialize for OneOrMany<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Any => s.serialize_str("*"),
            Principal::Aws(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("AWS", &OneOrMany(v))?;
                m.end()
            }
            Principal::Service(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("Service", &OneOrMany(v))?;
                m.end()
            }
        }
    }
}

struct Conditions<'a>(&'a Condition);

impl Serialize for Conditions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (op, keys) in self.0 {
            let inner: BTreeMap<&str, OneOrMany<'_>> = keys
                .iter()
                .map(|(k, v)| (k.as_str(), OneOrMany(v)))
                .collect();
            m.serialize_entry(op, &inner)?;
        }
        m.end()
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Statement", 6)?;
        st.serialize_field("Sid", &self.sid)?;
        st.serialize_field(
            "Effect",
            match self.effect {
                Effect::Allow => "Allow",
                Effect::Deny => "Deny",
            },
        )?;
        if let Some(p) = &self.principal {
            st.serialize_field("Principal", p)?;
        }
        let action_key = if self.not_action {
            "NotAction"
        } else {
            "Action"
        };
        st.serialize_field(action_key, &OneOrMany(&self.action))?;
        if !self.resource.is_empty() {
            st.serialize_field("Resource", &OneOrMany(&self.resource))?;
        }
        if !self.condition.is_empty() {
            st.serialize_field("Condition", &Conditions(&self.condition))?;
        }
        st.end()
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PolicyDocument", 2)?;
        st.serialize_field("Version", "2012-10-17")?;
        st.serialize_field("Statement", &self.statements)?;
        st.end()
    }
}

/// Whether a policy read back from AWS says the same as ours. AWS may reorder keys, turn a
/// string into a one-element array, or URL-encode the document (IAM does); all of that is equal.
pub fn same_policy(live: &str, ours: &PolicyDocument) -> bool {
    let decoded;
    let live = if live.trim_start().starts_with('%') || live.contains("%22") {
        decoded = percent_decode(live);
        decoded.as_str()
    } else {
        live
    };
    let Ok(live) = serde_json::from_str::<Value>(live) else {
        return false;
    };
    let Ok(ours) = serde_json::to_value(ours) else {
        return false;
    };
    normalize(&live) == normalize(&ours)
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        Value::Array(items) if items.len() == 1 => normalize(&items[0]),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalize).collect();
            // Statements keep their order; plain value lists are sets.
            if items.iter().all(Value::is_string) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// A URL-encoded document (as IAM returns them) as text.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PolicyDocument {
        PolicyDocument::new(vec![
            Statement::new("A", Effect::Allow)
                .principal(Principal::Service(vec!["cloudtrail.amazonaws.com".into()]))
                .actions(&["s3:GetBucketAcl"])
                .resources(&["arn:aws:s3:::b"])
                .when("StringEquals", "aws:SourceArn", &["x", "y"]),
        ])
    }

    #[test]
    fn serialization_is_deterministic_and_minified() {
        let json = sample().to_json();
        assert_eq!(
            json,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::b","Condition":{"StringEquals":{"aws:SourceArn":["x","y"]}}}]}"#
        );
        assert_eq!(json, sample().to_json());
    }

    #[test]
    fn same_policy_ignores_aws_reformatting() {
        let reformatted = r#"{"Statement":[{"Condition":{"StringEquals":{"aws:SourceArn":["y","x"]}},"Resource":["arn:aws:s3:::b"],"Action":["s3:GetBucketAcl"],"Principal":{"Service":["cloudtrail.amazonaws.com"]},"Effect":"Allow","Sid":"A"}],"Version":"2012-10-17"}"#;
        assert!(same_policy(reformatted, &sample()));
        let encoded = sample()
            .to_json()
            .replace('"', "%22")
            .replace('{', "%7B")
            .replace('}', "%7D");
        assert!(same_policy(&encoded, &sample()));
        let changed = sample().to_json().replace("GetBucketAcl", "PutBucketAcl");
        assert!(!same_policy(&changed, &sample()));
    }
}
