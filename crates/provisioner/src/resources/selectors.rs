//! The trail's event selectors as values: what the spec asks for, what the trail has, and how
//! they compare. Basic selectors serve management events alone; once data events are asked for,
//! every selector is an advanced one (CloudTrail takes one kind or the other, never both).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, AdvancedFieldSelector};
use trailhead_model::{DataEvents, ReadWriteType};

/// One advanced event selector, with its conditions normalised (field → operator → values) so
/// that two selectors compare by meaning, whatever order AWS returns them in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    pub name: String,
    pub fields: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

pub const EQUALS: &str = "Equals";
pub const STARTS_WITH: &str = "StartsWith";
pub const NOT_STARTS_WITH: &str = "NotStartsWith";

/// The name of the advanced selector that records management events: the console's own name,
/// and the only one Prowler's `cloudtrail_multi_region_enabled_logging_management_events`
/// accepts (under any other name, or with a `readOnly` condition, it fails the account).
pub const MANAGEMENT_SELECTOR: &str = "Management events selector";

pub const S3_OBJECT: &str = "AWS::S3::Object";
pub const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";

impl Selector {
    fn new(name: &str) -> Self {
        Selector {
            name: name.to_string(),
            fields: BTreeMap::new(),
        }
    }

    fn with<I: IntoIterator<Item = String>>(mut self, field: &str, op: &str, values: I) -> Self {
        let values: BTreeSet<String> = values.into_iter().collect();
        if !values.is_empty() {
            self.fields
                .entry(field.to_string())
                .or_default()
                .insert(op.to_string(), values);
        }
        self
    }

    fn equals(self, field: &str, value: &str) -> Self {
        self.with(field, EQUALS, [value.to_string()])
    }

    /// The values of `field` under `op`; empty when the selector has no such condition.
    pub fn values(&self, field: &str, op: &str) -> Vec<&str> {
        self.fields
            .get(field)
            .and_then(|ops| ops.get(op))
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn is(&self, field: &str, value: &str) -> bool {
        self.values(field, EQUALS) == [value]
    }

    fn with_read_only(self, kind: ReadWriteType) -> Self {
        match kind {
            ReadWriteType::All => self,
            ReadWriteType::ReadOnly => self.equals("readOnly", "true"),
            ReadWriteType::WriteOnly => self.equals("readOnly", "false"),
        }
    }

    /// Which of read and write events the selector's `readOnly` condition lets through.
    pub fn read_write(&self) -> Option<ReadWriteType> {
        match self.values("readOnly", EQUALS).as_slice() {
            [] => Some(ReadWriteType::All),
            ["true"] => Some(ReadWriteType::ReadOnly),
            ["false"] => Some(ReadWriteType::WriteOnly),
            _ => None,
        }
    }
}

/// The advanced selectors the spec asks for, or None when basic selectors (management events
/// only) are enough. `archive_buckets` are never selected: CloudTrail writing a log file into
/// the archive is itself an S3 data event, so selecting it would feed the trail its own output.
pub fn desired(
    partition: &str,
    management: ReadWriteType,
    events: &DataEvents,
    archive_buckets: &[&str],
) -> Option<Vec<Selector>> {
    if !events.any() {
        return None;
    }
    let mut out = vec![
        Selector::new(MANAGEMENT_SELECTOR)
            .equals("eventCategory", "Management")
            .with_read_only(management),
    ];
    if let Some(kind) = events.s3 {
        let s3 = Selector::new("S3 object events")
            .equals("eventCategory", "Data")
            .equals("resources.type", S3_OBJECT)
            .with_read_only(kind);
        let s3 = if events.s3_bucket_arns.is_empty() {
            let excluded = archive_buckets
                .iter()
                .map(|b| format!("arn:{partition}:s3:::{b}/"));
            s3.with("resources.ARN", NOT_STARTS_WITH, excluded)
        } else {
            s3.with(
                "resources.ARN",
                STARTS_WITH,
                events.s3_bucket_arns.iter().cloned(),
            )
        };
        out.push(s3);
    }
    if events.lambda {
        out.push(
            Selector::new("Lambda invocations")
                .equals("eventCategory", "Data")
                .equals("resources.type", LAMBDA_FUNCTION),
        );
    }
    Some(out)
}

/// Whether two selector sets select the same events, order and names aside, except the name of
/// the management-events selector, which Prowler reads.
pub fn same(live: &[Selector], desired: &[Selector]) -> bool {
    let fields = |s: &[Selector]| {
        let mut v: Vec<_> = s.iter().map(|s| s.fields.clone()).collect();
        v.sort();
        v
    };
    let management = |s: &[Selector]| {
        s.iter()
            .find(|s| s.is("eventCategory", "Management"))
            .map(|s| s.name.clone())
    };
    fields(live) == fields(desired) && management(live) == management(desired)
}

/// Prowler's rule for management events, on a trail's selectors: a basic selector with
/// `ReadWriteType` All and `IncludeManagementEvents`, or an advanced selector named exactly
/// [`MANAGEMENT_SELECTOR`] with no `readOnly` condition (prowler-cloud/prowler,
/// `cloudtrail_multi_region_enabled_logging_management_events`).
pub fn prowler_management_events(
    basic: &[(String, bool, Vec<String>)],
    advanced: &[Selector],
) -> bool {
    basic
        .iter()
        .any(|(kind, management, _)| kind == "All" && *management)
        || advanced
            .iter()
            .any(|s| s.name == MANAGEMENT_SELECTOR && !s.fields.contains_key("readOnly"))
}

/// One line per selector, for plans and evidence.
pub fn text(selectors: &[Selector]) -> String {
    if selectors.is_empty() {
        return "none".into();
    }
    selectors
        .iter()
        .map(|s| {
            let conditions: Vec<String> = s
                .fields
                .iter()
                .flat_map(|(field, ops)| {
                    ops.iter().map(move |(op, values)| {
                        let values: Vec<&str> = values.iter().map(String::as_str).collect();
                        format!("{field} {op} {}", values.join("|"))
                    })
                })
                .collect();
            format!("[{}] {}", s.name, conditions.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn to_sdk(s: &Selector) -> Result<AdvancedEventSelector, String> {
    let mut fields = Vec::new();
    for (field, ops) in &s.fields {
        let mut f = AdvancedFieldSelector::builder().field(field);
        for (op, values) in ops {
            let values: Vec<String> = values.iter().cloned().collect();
            f = match op.as_str() {
                EQUALS => f.set_equals(Some(values)),
                STARTS_WITH => f.set_starts_with(Some(values)),
                NOT_STARTS_WITH => f.set_not_starts_with(Some(values)),
                other => return Err(format!("no SDK operator for {other}")),
            };
        }
        fields.push(f.build().map_err(|e| e.to_string())?);
    }
    AdvancedEventSelector::builder()
        .name(&s.name)
        .set_field_selectors(Some(fields))
        .build()
        .map_err(|e| e.to_string())
}

pub fn from_sdk(s: &AdvancedEventSelector) -> Selector {
    let mut out = Selector::new(s.name().unwrap_or_default());
    for f in s.field_selectors() {
        let field = f.field();
        let ops: [(&str, &[String]); 6] = [
            (EQUALS, f.equals()),
            (STARTS_WITH, f.starts_with()),
            (NOT_STARTS_WITH, f.not_starts_with()),
            ("EndsWith", f.ends_with()),
            ("NotEquals", f.not_equals()),
            ("NotEndsWith", f.not_ends_with()),
        ];
        for (op, values) in ops {
            out = out.with(field, op, values.iter().cloned());
        }
    }
    out
}

/// What the management-event selector among `selectors` records: its read/write kind and the
/// event sources it leaves out. None when no selector records management events.
pub fn management_of(selectors: &[Selector]) -> Option<(ReadWriteType, Vec<String>)> {
    let s = selectors
        .iter()
        .find(|s| s.is("eventCategory", "Management"))?;
    let excluded = s
        .values("eventSource", "NotEquals")
        .into_iter()
        .map(str::to_string)
        .collect();
    Some((s.read_write()?, excluded))
}

/// Whether some selector records `kind` S3 object events of every bucket, the archive's own
/// excepted (what CIS object-level logging and Security Hub S3.22/S3.23 ask for).
pub fn s3_objects_everywhere(selectors: &[Selector], kind: ReadWriteType) -> bool {
    selectors.iter().any(|s| {
        let covers = match (s.read_write(), kind) {
            (Some(ReadWriteType::All), _) => true,
            (Some(have), want) => have == want,
            (None, _) => false,
        };
        let only_known_conditions = s.fields.keys().all(|f| {
            [
                "eventCategory",
                "resources.type",
                "readOnly",
                "resources.ARN",
            ]
            .contains(&f.as_str())
        });
        let arn_ops: Vec<&String> = s
            .fields
            .get("resources.ARN")
            .map(|ops| ops.keys().collect())
            .unwrap_or_default();
        s.is("eventCategory", "Data")
            && s.is("resources.type", S3_OBJECT)
            && covers
            && only_known_conditions
            && arn_ops.iter().all(|op| op.as_str() == NOT_STARTS_WITH)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(s3: Option<ReadWriteType>, arns: &[&str], lambda: bool) -> DataEvents {
        DataEvents {
            s3,
            s3_bucket_arns: arns.iter().map(|a| a.to_string()).collect(),
            lambda,
        }
    }

    const ARCHIVE: [&str; 2] = ["org-cloudtrail-1", "org-cloudtrail-1-access-logs"];

    #[test]
    fn no_data_events_keeps_basic_selectors() {
        let none = events(None, &[], false);
        assert!(desired("aws", ReadWriteType::All, &none, &ARCHIVE).is_none());
    }

    #[test]
    fn every_bucket_is_selected_except_the_archive_and_its_access_logs() {
        let asked = events(Some(ReadWriteType::WriteOnly), &[], false);
        let s = desired("aws", ReadWriteType::All, &asked, &ARCHIVE).expect("advanced");
        assert_eq!(s.len(), 2);
        assert!(s[0].is("eventCategory", "Management"));
        assert_eq!(s[0].read_write(), Some(ReadWriteType::All));
        assert_eq!(s[1].values("readOnly", EQUALS), ["false"]);
        assert_eq!(
            s[1].values("resources.ARN", NOT_STARTS_WITH),
            [
                "arn:aws:s3:::org-cloudtrail-1-access-logs/",
                "arn:aws:s3:::org-cloudtrail-1/"
            ]
        );
        assert!(s3_objects_everywhere(&s, ReadWriteType::WriteOnly));
        assert!(!s3_objects_everywhere(&s, ReadWriteType::ReadOnly));
        assert_eq!(management_of(&s), Some((ReadWriteType::All, vec![])));
    }

    #[test]
    fn a_scoped_selector_lists_the_prefixes_and_is_not_everywhere() {
        let asked = events(Some(ReadWriteType::All), &["arn:aws:s3:::payments/"], true);
        let s = desired("aws", ReadWriteType::ReadOnly, &asked, &ARCHIVE).expect("advanced");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].values("readOnly", EQUALS), ["true"]);
        assert_eq!(
            s[1].values("resources.ARN", STARTS_WITH),
            ["arn:aws:s3:::payments/"]
        );
        assert!(s[1].values("resources.ARN", NOT_STARTS_WITH).is_empty());
        assert!(s[2].is("resources.type", LAMBDA_FUNCTION));
        assert!(!s3_objects_everywhere(&s, ReadWriteType::WriteOnly));
    }

    #[test]
    fn selectors_round_trip_through_the_sdk_and_compare_by_meaning() {
        let asked = events(Some(ReadWriteType::All), &[], true);
        let want = desired("aws", ReadWriteType::All, &asked, &ARCHIVE).expect("advanced");
        let mut back: Vec<Selector> = want
            .iter()
            .map(|s| from_sdk(&to_sdk(s).expect("sdk")))
            .collect();
        assert_eq!(back, want);
        back.reverse();
        back[0].name = "renamed by hand".into();
        assert!(same(&back, &want));
        back[1].fields.remove("resources.ARN");
        assert!(!same(&back, &want));
    }

    #[test]
    fn the_management_selector_bears_the_name_prowler_reads_and_a_rename_is_drift() {
        let asked = events(Some(ReadWriteType::All), &[], false);
        let want = desired("aws", ReadWriteType::All, &asked, &ARCHIVE).expect("advanced");
        assert!(prowler_management_events(&[], &want));
        let mut live = want.clone();
        live[0].name = "Management events".into();
        assert!(!same(&live, &want), "the old name is rewritten");
        assert!(!prowler_management_events(&[], &live));
        live[1].name = "renamed by hand".into();
        live[0].name = MANAGEMENT_SELECTOR.into();
        assert!(same(&live, &want), "a data selector's name is not drift");
    }

    #[test]
    fn prowler_takes_basic_all_or_the_named_selector_without_read_only() {
        let all = vec![("All".to_string(), true, Vec::new())];
        assert!(prowler_management_events(&all, &[]));
        let write = vec![("WriteOnly".to_string(), true, Vec::new())];
        assert!(!prowler_management_events(&write, &[]));
        let asked = events(Some(ReadWriteType::All), &[], false);
        let write_only =
            desired("aws", ReadWriteType::WriteOnly, &asked, &ARCHIVE).expect("advanced");
        assert_eq!(write_only[0].name, MANAGEMENT_SELECTOR);
        assert!(
            !prowler_management_events(&[], &write_only),
            "readOnly fails it"
        );
    }

    #[test]
    fn text_names_every_condition() {
        let asked = events(Some(ReadWriteType::WriteOnly), &[], false);
        let s = desired("aws", ReadWriteType::All, &asked, &ARCHIVE).expect("advanced");
        let t = text(&s);
        assert!(t.contains("[S3 object events]"), "{t}");
        assert!(t.contains("readOnly Equals false"), "{t}");
        assert!(t.contains("resources.ARN NotStartsWith arn:aws:s3:::org-cloudtrail-1-access-logs/|arn:aws:s3:::org-cloudtrail-1/"), "{t}");
        assert!(!t.contains('{'), "no Debug text: {t}");
    }
}
