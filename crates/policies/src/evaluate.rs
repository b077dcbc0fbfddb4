//! Evaluates one request against one policy, for the condition operators trailhead emits:
//! String(Not)Equals, String(Not)Like, Arn(Not)Like/Equals, Bool, Null, each with `IfExists`.
//!
//! Semantics follow AWS's documentation: an explicit Deny wins; conditions are AND across
//! operators and keys and OR across one key's values; a missing key fails a positive operator,
//! satisfies a negated one, and satisfies any `…IfExists`. `ForAllValues:` needs every request
//! value to match (and holds when the key is absent); `ForAnyValue:` needs one to.

use std::collections::BTreeMap;

use crate::{Effect, PolicyDocument, Principal, Statement};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPrincipal {
    Anonymous,
    Service(String),
    /// An IAM principal: its account and ARN.
    Aws {
        account: String,
        arn: String,
    },
}

#[derive(Debug, Clone)]
pub struct Request {
    pub principal: RequestPrincipal,
    pub action: String,
    pub resource: String,
    /// Request context keys (e.g. `aws:SourceArn`), looked up case-insensitively.
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    pub fn new(principal: RequestPrincipal, action: &str, resource: &str) -> Self {
        Request {
            principal,
            action: action.to_string(),
            resource: resource.to_string(),
            context: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.context
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.to_string());
        self
    }

    fn values(&self, key: &str) -> Option<&Vec<String>> {
        self.context.get(&key.to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    /// Nothing allows it: denied unless another policy grants it.
    ImplicitDeny,
}

pub fn evaluate(policy: &PolicyDocument, req: &Request) -> Decision {
    let mut allowed = false;
    for s in &policy.statements {
        if !applies(s, req) {
            continue;
        }
        match s.effect {
            Effect::Deny => return Decision::ExplicitDeny,
            Effect::Allow => allowed = true,
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

fn applies(s: &Statement, req: &Request) -> bool {
    let action_listed = s
        .action
        .iter()
        .any(|a| glob(&a.to_ascii_lowercase(), &req.action.to_ascii_lowercase()));
    let action_ok = if s.not_action {
        !action_listed
    } else {
        action_listed
    };
    let resource_ok = s.resource.is_empty() || s.resource.iter().any(|r| glob(r, &req.resource));
    action_ok
        && resource_ok
        && principal_matches(s.principal.as_ref(), &req.principal)
        && s.condition
            .iter()
            .all(|(op, keys)| keys.iter().all(|(k, v)| condition(op, k, v, req)))
}

fn principal_matches(p: Option<&Principal>, who: &RequestPrincipal) -> bool {
    match (p, who) {
        // An identity policy: it applies to whoever it is attached to.
        (None, _) => true,
        (Some(Principal::Any), _) => true,
        (Some(Principal::Service(names)), RequestPrincipal::Service(name)) => names.contains(name),
        (Some(Principal::Aws(ids)), RequestPrincipal::Aws { account, arn }) => {
            ids.iter().any(|id| {
                id == "*"
                    || id == account
                    || id == arn
                    || id
                        .strip_suffix(":root")
                        .and_then(|prefix| prefix.rsplit(':').next())
                        .is_some_and(|root_account| root_account == account)
            })
        }
        (Some(Principal::Aws(ids)), RequestPrincipal::Anonymous) => ids.iter().any(|id| id == "*"),
        _ => false,
    }
}

fn condition(op: &str, key: &str, wanted: &[String], req: &Request) -> bool {
    if let Some((set, inner)) = op.split_once(':')
        && matches!(set, "ForAllValues" | "ForAnyValue")
    {
        let values = req.values(key).cloned().unwrap_or_default();
        let one = |v: &String| {
            let single = Request {
                context: BTreeMap::from([(key.to_ascii_lowercase(), vec![v.clone()])]),
                ..req.clone()
            };
            condition(inner, key, wanted, &single)
        };
        return if set == "ForAllValues" {
            values.iter().all(one)
        } else {
            values.iter().any(one)
        };
    }
    let (base, if_exists) = match op.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (op, false),
    };
    let present = req.values(key);
    if base == "Null" {
        let absent = present.is_none_or(|v| v.is_empty());
        return wanted.iter().any(|w| (w == "true") == absent);
    }
    let Some(values) = present.filter(|v| !v.is_empty()) else {
        return if_exists || is_negated(base);
    };
    let any = |f: &dyn Fn(&str, &str) -> bool| {
        values
            .iter()
            .any(|v| wanted.iter().any(|w| f(w.as_str(), v.as_str())))
    };
    match base {
        "StringEquals" => any(&|w, v| w == v),
        "StringNotEquals" => !any(&|w, v| w == v),
        "StringEqualsIgnoreCase" => any(&|w, v| w.eq_ignore_ascii_case(v)),
        "StringNotEqualsIgnoreCase" => !any(&|w, v| w.eq_ignore_ascii_case(v)),
        "StringLike" => any(&|w, v| glob(w, v)),
        "StringNotLike" => !any(&|w, v| glob(w, v)),
        "ArnEquals" | "ArnLike" => any(&arn_like),
        "ArnNotEquals" | "ArnNotLike" => !any(&arn_like),
        "Bool" => any(&|w, v| w.eq_ignore_ascii_case(v)),
        // An operator this evaluator does not know never matches, so a Deny built on it is
        // reported as not applying rather than silently trusted.
        _ => false,
    }
}

fn is_negated(op: &str) -> bool {
    op.contains("Not")
}

/// ARN matching: the six colon-separated parts are compared one by one, with wildcards.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| glob(p, a))
}

/// `*` matches any run of characters, `?` any one character.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(
            "kms:GenerateDataKey*",
            "kms:GenerateDataKeyWithoutPlaintext"
        ));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(glob(
            "arn:aws:s3:::b/AWSLogs/1/*",
            "arn:aws:s3:::b/AWSLogs/1/x/y"
        ));
        assert!(!glob(
            "arn:aws:s3:::b/AWSLogs/1/*",
            "arn:aws:s3:::b/AWSLogs/2/x"
        ));
        assert!(arn_like(
            "arn:aws:cloudtrail:*:1:trail/*",
            "arn:aws:cloudtrail:eu-west-1:1:trail/t"
        ));
        assert!(!arn_like(
            "arn:aws:cloudtrail:*:1:trail/*",
            "arn:aws:cloudtrail:eu-west-1:2:trail/t"
        ));
    }

    #[test]
    fn missing_keys() {
        let req = Request::new(RequestPrincipal::Anonymous, "s3:GetObject", "x");
        assert!(!condition(
            "StringEquals",
            "aws:SourceArn",
            &["a".into()],
            &req
        ));
        assert!(condition(
            "StringNotEquals",
            "aws:SourceArn",
            &["a".into()],
            &req
        ));
        assert!(condition(
            "StringEqualsIfExists",
            "aws:SourceArn",
            &["a".into()],
            &req
        ));
        assert!(!condition(
            "Bool",
            "aws:SecureTransport",
            &["false".into()],
            &req
        ));
        assert!(condition("Null", "aws:SourceArn", &["true".into()], &req));
        assert!(!condition("Null", "aws:SourceArn", &["false".into()], &req));
        let req = req.with("AWS:SourceArn", "a");
        assert!(condition(
            "StringEquals",
            "aws:sourcearn",
            &["a".into(), "b".into()],
            &req
        ));
        assert!(!condition(
            "StringNotEquals",
            "aws:SourceArn",
            &["a".into()],
            &req
        ));
    }
}
