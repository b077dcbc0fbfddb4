//! One bad spec per validation rule: each asserts the message and the line:column it points at.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use trailhead_model::{Location, Tolerance, parse_spec};

const BASE: &str = r#"[org]
name = "acme"
management_account = "111111111111"
home_region = "eu-west-1"
regions = ["eu-west-1", "us-east-1"]

[log_archive]
account_id = "222222222222"
bucket_name = "{org}-cloudtrail-{account_id}"
kms_alias = "alias/trailhead"

[trail]
name = "org-audit"
cloudwatch_logs_retention_days = 365

[alarms]
benchmark = "cis-1.4"
emails = ["secops@acme.example"]

[[account]]
id = "444444444444"
name = "sandbox"
email = "aws+sandbox@acme.example"
ou = "Sandbox"

[[account]]
id = "555555555555"
name = "prod"
email = "aws+prod@acme.example"
ou = "Workloads"

[[wave]]
name = "canary"
members = ["sandbox"]
max_concurrency = 1
failure_tolerance = 0

[[wave]]
name = "rest"
members = ["ou:Workloads"]
max_concurrency = 4
failure_tolerance = "10%"
"#;

/// (line:col, message, help) of every error in `src`.
fn errors(src: &str) -> Vec<(Location, String, String)> {
    match parse_spec("org.toml", src) {
        Ok(_) => Vec::new(),
        Err(d) => d
            .errors()
            .map(|e| {
                (
                    e.location(src),
                    e.message.clone(),
                    e.help.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// Replaces `from` (which must occur) in BASE.
fn with(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

/// Asserts exactly one error, at the first occurrence of `at` (the `nth` one, 0-based), with
/// `message` in its text; returns its help.
fn one_error_at(src: &str, at: &str, nth: usize, message: &str) -> String {
    let errs = errors(src);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    // `|` in `at` marks the exact position inside the matched text.
    let caret = at.find('|').unwrap_or(0);
    let needle = at.replace('|', "");
    let offset = src
        .match_indices(&needle)
        .nth(nth)
        .map(|(i, _)| i + caret)
        .unwrap_or_else(|| panic!("{needle:?} not in source"));
    let (loc, msg, help) = &errs[0];
    assert_eq!(*loc, Location::of(src, offset), "{msg}");
    assert!(msg.contains(message), "{msg:?} lacks {message:?}");
    help.clone()
}

#[test]
fn the_base_spec_and_the_example_are_valid() {
    let (spec, warnings) =
        parse_spec("org.toml", BASE).unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(!warnings.has_errors());
    assert_eq!(spec.accounts.len(), 2);
    assert_eq!(spec.waves[1].failure_tolerance, Tolerance::Percent(10));
    assert_eq!(spec.access.role_name, "OrganizationAccountAccessRole");

    let example = include_str!("../../../config/org.example.toml");
    parse_spec("config/org.example.toml", example)
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
}

#[test]
fn toml_syntax_error_is_one_clear_error() {
    let src = with("name = \"acme\"", "name = \"acme");
    let errs = errors(&src);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].1.contains("not valid TOML"), "{}", errs[0].1);
    assert_eq!(errs[0].0.line, 2);
}

#[test]
fn empty_binary_and_non_toml_files() {
    let errs = errors("");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].1.contains("empty"));
    let errs = errors("   \n\n");
    assert!(errs[0].1.contains("empty"));
    let errs = errors("<html><body>not toml</body></html>");
    assert_eq!(errs.len(), 1);
    assert!(errs[0].1.contains("not valid TOML"));

    let dir = std::env::temp_dir().join(format!("trailhead-bin-{}", std::process::id()));
    std::fs::write(&dir, [0u8, 159, 146, 150, 0, 1]).unwrap_or_default();
    match trailhead_model::load_file(&dir) {
        Err(trailhead_model::LoadError::Invalid(d)) => {
            assert_eq!(d.items.len(), 1);
            assert!(d.items[0].message.contains("not a text file"));
        }
        other => panic!("binary file accepted: {other:?}"),
    }
    let _ = std::fs::remove_file(&dir);
}

#[test]
fn unknown_key_suggests_the_known_one() {
    let src = with("home_region =", "home_regoin =");
    let errs = errors(&src);
    // The misspelt key is unknown, and the real one is then missing.
    assert_eq!(errs.len(), 2, "{errs:#?}");
    let unknown = errs
        .iter()
        .find(|e| e.1.contains("unknown key"))
        .expect("unknown key error");
    assert_eq!(unknown.0, Location { line: 4, column: 1 });
    assert!(
        unknown.2.contains("did you mean `home_region`"),
        "{}",
        unknown.2
    );
    assert!(
        errs.iter()
            .any(|e| e.1.contains("missing required key `home_region`"))
    );
}

#[test]
fn unknown_top_level_table() {
    let src = format!("{BASE}\n[trails]\nname = \"x\"\n");
    let help = one_error_at(&src, "trails", 0, "unknown key `trails`");
    assert!(help.contains("did you mean `trail`"), "{help}");
}

#[test]
fn missing_required_key() {
    let src = with("management_account = \"111111111111\"\n", "");
    one_error_at(
        &src,
        "org",
        0,
        "missing required key `management_account` in [org]",
    );
}

#[test]
fn missing_required_table() {
    let start = BASE.find("[log_archive]").unwrap_or(0);
    let end = BASE.find("[trail]").unwrap_or(0);
    let src = format!("{}{}", &BASE[..start], &BASE[end..]);
    let errs = errors(&src);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].1.contains("missing required key `log_archive`"));
    assert_eq!(errs[0].0, Location { line: 1, column: 1 });
}

#[test]
fn account_id_not_twelve_digits() {
    let src = with("id = \"444444444444\"", "id = \"44444444444\"");
    let help = one_error_at(&src, "\"44444444444\"", 0, "must be exactly 12 digits");
    assert!(help.contains("leading zeros"));
    let src = with(
        "account_id = \"222222222222\"",
        "account_id = \"22222222222x\"",
    );
    one_error_at(&src, "\"22222222222x\"", 0, "is not an AWS account id");
}

#[test]
fn duplicate_account_id_name_and_email() {
    let src = with("id = \"555555555555\"", "id = \"444444444444\"");
    one_error_at(
        &src,
        "\"444444444444\"",
        1,
        "duplicate account id `444444444444`",
    );
    let src = with("name = \"prod\"", "name = \"sandbox\"");
    // The renamed account also matches the canary wave, which is fine: same wave.
    let errs = errors(&src);
    assert!(
        errs.iter()
            .any(|e| e.1.contains("duplicate account name `sandbox`")),
        "{errs:#?}"
    );
    let src = with("aws+prod@acme.example", "AWS+sandbox@acme.example");
    one_error_at(
        &src,
        "\"AWS+sandbox@acme.example\"",
        0,
        "duplicate account email",
    );
}

#[test]
fn wave_member_matching_nothing() {
    let src = with("members = [\"sandbox\"]", "members = [\"sandbx\"]");
    let help = one_error_at(&src, "\"sandbx\"", 0, "matches no account");
    assert!(help.contains("did you mean `sandbox`"), "{help}");
    let src = with("ou:Workloads", "ou:Workload");
    one_error_at(&src, "\"ou:Workload\"", 0, "matches no account");
}

#[test]
fn account_in_two_waves() {
    let src = with(
        "members = [\"ou:Workloads\"]",
        "members = [\"ou:Workloads\", \"444444444444\"]",
    );
    one_error_at(&src, "\"444444444444\"", 1, "already in wave `canary`");
}

#[test]
fn empty_wave() {
    let src = with("members = [\"ou:Workloads\"]", "members = []");
    one_error_at(&src, "members = |[]", 0, "wave `rest` has no members");
}

#[test]
fn region_codes() {
    let src = with("home_region = \"eu-west-1\"", "home_region = \"eu-wset-1\"");
    let help = one_error_at(&src, "\"eu-wset-1\"", 0, "not an AWS region code");
    assert!(help.contains("did you mean `eu-west-1`"), "{help}");
    let src = with("\"us-east-1\"]", "\"us-east-7\"]");
    one_error_at(&src, "\"us-east-7\"", 0, "not an AWS region code");
}

#[test]
fn bucket_names() {
    let cases = [
        ("\"Acme-Trail\"", "has `A`"),
        ("\"ab\"", "3 to 63"),
        ("\"a..b-{account_id}\"", "two adjacent periods"),
        ("\"10.1.2.3\"", "IP address"),
        ("\"xn--{account_id}\"", "reserved prefix `xn--`"),
        (
            "\"logs-{account_id}-s3alias\"",
            "reserved suffix `-s3alias`",
        ),
        ("\"{org}-{bogus}\"", "unknown placeholder `{bogus}`"),
        // Fine as written, too long once the 12-digit id is in.
        (
            "\"{org}-cloudtrail-archive-for-everythings-{account_id}\"",
            "no room for its access-log bucket",
        ),
        (
            "\"{org}-cloudtrail-archive-for-all-of-the-logs-of-the-org-{account_id}\"",
            "3 to 63",
        ),
    ];
    for (bad, message) in cases {
        let src = with("\"{org}-cloudtrail-{account_id}\"", bad);
        one_error_at(&src, bad, 0, message);
    }
}

#[test]
fn kms_alias_rules() {
    let src = with("\"alias/trailhead\"", "\"trailhead\"");
    one_error_at(&src, "\"trailhead\"", 0, "must start with `alias/`");
    let src = with("\"alias/trailhead\"", "\"alias/aws/cloudtrail\"");
    one_error_at(
        &src,
        "\"alias/aws/cloudtrail\"",
        0,
        "reserves for its managed keys",
    );
}

#[test]
fn trail_name_rules() {
    let src = with("name = \"org-audit\"", "name = \"org-_audit\"");
    one_error_at(&src, "\"org-_audit\"", 0, "adjacent");
    let src = with("name = \"org-audit\"", "name = \"org audit\"");
    one_error_at(&src, "\"org audit\"", 0, "has ` `");
}

#[test]
fn log_retention_rules() {
    let src = with(
        "cloudwatch_logs_retention_days = 365",
        "cloudwatch_logs_retention_days = 366",
    );
    let help = one_error_at(&src, "366", 0, "366 is not a retention");
    assert!(help.contains("3653"));
}

#[test]
fn object_lock_rules() {
    let lock = |mode: &str, days: &str| {
        with(
            "kms_alias = \"alias/trailhead\"\n",
            &format!(
                "kms_alias = \"alias/trailhead\"\n[log_archive.object_lock]\nmode = {mode}\ndays = {days}\n"
            ),
        )
    };
    let src = lock("\"COMPLIANCE\"", "0");
    one_error_at(&src, "days = |0", 0, "Object Lock days must be 1 to 36500");
    let src = lock("\"COMPLIANCE\"", "-5");
    one_error_at(&src, "-5", 0, "Object Lock days");
    let src = lock("\"LEGAL_HOLD\"", "30");
    one_error_at(&src, "\"LEGAL_HOLD\"", 0, "not an Object Lock mode");
    let ok = lock("\"GOVERNANCE\"", "30");
    let (spec, _) = parse_spec("org.toml", &ok).unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert_eq!(spec.log_archive.object_lock.map(|o| o.days), Some(30));
}

#[test]
fn unknown_benchmark_and_control() {
    let src = with("\"cis-1.4\"", "\"cis-1.5\"");
    one_error_at(&src, "\"cis-1.5\"", 0, "unknown benchmark `cis-1.5`");
    let src = with("emails =", "exclude = [\"4.1\", \"4.16\"]\nemails =");
    one_error_at(&src, "\"4.16\"", 0, "`4.16` is not a control of cis-1.4");
}

#[test]
fn the_extended_set_is_a_switch_beside_a_benchmark_not_a_benchmark() {
    let src = with("\"cis-1.4\"", "\"extended\"");
    let help = one_error_at(&src, "\"extended\"", 0, "unknown benchmark `extended`");
    assert!(help.contains("extended = true"), "{help}");
    let on = with("emails =", "extended = true\nemails =");
    let (spec, _) = parse_spec("org.toml", &on).unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(spec.alarms.extended);
    let (spec, _) = parse_spec("org.toml", BASE).unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(!spec.alarms.extended);
}

#[test]
fn malformed_email() {
    let src = with("\"secops@acme.example\"", "\"secops.acme.example\"");
    one_error_at(&src, "\"secops.acme.example\"", 0, "not an email address");
    let src = with("aws+prod@acme.example", "aws+prod@acme");
    one_error_at(&src, "\"aws+prod@acme\"", 0, "not an email address");
}

#[test]
fn zero_concurrency_and_tolerance_above_100() {
    let src = with("max_concurrency = 1", "max_concurrency = 0");
    one_error_at(&src, "max_concurrency = |0", 0, "must be at least 1");
    let src = with("\"10%\"", "\"150%\"");
    one_error_at(&src, "\"150%\"", 0, "above 100%");
    let src = with("\"10%\"", "\"ten\"");
    one_error_at(&src, "\"ten\"", 0, "neither a count nor a percent");
}

#[test]
fn type_errors_name_the_expected_type() {
    let src = with(
        "cloudwatch_logs_retention_days = 365",
        "cloudwatch_logs_retention_days = \"365\"",
    );
    one_error_at(&src, "\"365\"", 0, "must be an integer, found a string");
}

#[test]
fn every_problem_is_reported_at_once() {
    let src = BASE
        .replace("\"eu-west-1\",", "\"eu-wset-1\",")
        .replace("id = \"444444444444\"", "id = \"4\"")
        .replace("\"cis-1.4\"", "\"cis-9\"")
        .replace("max_concurrency = 4", "max_concurrency = 0");
    let errs = errors(&src);
    assert_eq!(errs.len(), 4, "{errs:#?}");
}

/// The related span of the one error in `src`, as line:column.
fn related_at(src: &str) -> Location {
    let d = parse_spec("org.toml", src).expect_err("an error");
    let e = d.errors().next().expect("one error");
    let (span, _) = e.related.clone().expect("a related span");
    Location::of(src, span.start)
}

#[test]
fn mfa_delete_and_an_expiry_cannot_be_combined() {
    // Explicit MFA Delete: the error points at the expiry and, as related, at mfa_delete.
    let src = with(
        "kms_alias = \"alias/trailhead\"\n",
        "kms_alias = \"alias/trailhead\"\nmfa_delete = true\nretention_days = 365\n",
    );
    let help = one_error_at(
        &src,
        "retention_days = |365",
        0,
        "cannot be combined with MFA Delete",
    );
    assert!(
        help.contains("Object Lock") && help.contains("without expiry"),
        "{help}"
    );
    let mfa = src.find("mfa_delete = true").expect("key");
    assert_eq!(
        related_at(&src),
        Location::of(&src, mfa + "mfa_delete = ".len())
    );
    // MFA Delete by default: the related span is the [log_archive] table.
    let src = with(
        "kms_alias = \"alias/trailhead\"\n",
        "kms_alias = \"alias/trailhead\"\nnoncurrent_retention_days = 90\n",
    );
    one_error_at(
        &src,
        "noncurrent_retention_days = |90",
        0,
        "cannot be combined with MFA Delete",
    );
    // Without an expiry MFA Delete keeps logs for good: no lifecycle at all.
    let (spec, _) = parse_spec("org.toml", BASE).unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(spec.log_archive.mfa_delete);
    assert_eq!(spec.log_archive.lifecycle(), None);
    // Object Lock plus expiry: MFA Delete defaults off, the defaults expire.
    let src = with(
        "kms_alias = \"alias/trailhead\"\n",
        "kms_alias = \"alias/trailhead\"\nretention_days = 400\n[log_archive.object_lock]\nmode = \"GOVERNANCE\"\ndays = 365\n",
    );
    let (spec, _) = parse_spec("org.toml", &src).unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(!spec.log_archive.mfa_delete);
    assert_eq!(spec.log_archive.lifecycle(), Some((400, Some(90))));
}

#[test]
fn session_duration_is_capped_by_role_chaining() {
    let src = with(
        "[log_archive]",
        "[access]\nsession_duration_seconds = 7200\n\n[log_archive]",
    );
    let help = one_error_at(&src, "7200", 0, "chained role session (3600s)");
    assert!(help.contains("role chaining"), "{help}");
    let ok = with(
        "[log_archive]",
        "[access]\nsession_duration_seconds = 3600\n\n[log_archive]",
    );
    assert!(parse_spec("org.toml", &ok).is_ok());
}

#[test]
fn a_log_archive_to_create_needs_a_name_and_email_create_account_accepts() {
    let create = |name: &str, email: &str| {
        with(
            "account_id = \"222222222222\"",
            &format!("name = \"{name}\"\nemail = \"{email}\""),
        )
    };
    let long = "n".repeat(51);
    let src = create(&long, "aws+la@acme.example");
    one_error_at(
        &src,
        &format!("\"{long}\""),
        0,
        "must be 1 to 50 characters",
    );
    let src = create("log-archive\u{e9}", "aws+la@acme.example");
    one_error_at(&src, "\"log-archive\u{e9}\"", 0, "printable ASCII only");
    let email = format!("{}@acme.example", "a".repeat(60));
    let src = create("log-archive", &email);
    one_error_at(
        &src,
        &format!("\"{email}\""),
        0,
        "CreateAccount accepts 6 to 64",
    );
    assert!(parse_spec("org.toml", &create("log-archive", "aws+la@acme.example")).is_ok());
}

#[test]
fn log_group_names_under_aws_slash_are_reserved() {
    let src = with(
        "cloudwatch_logs_retention_days = 365",
        "log_group_name = \"aws/cloudtrail\"\ncloudwatch_logs_retention_days = 365",
    );
    one_error_at(&src, "\"aws/cloudtrail\"", 0, "reserves for AWS services");
    let ok = with(
        "cloudwatch_logs_retention_days = 365",
        "log_group_name = \"/aws/cloudtrail\"\ncloudwatch_logs_retention_days = 365",
    );
    assert!(parse_spec("org.toml", &ok).is_ok());
}

#[test]
fn isolated_partitions_are_refused_with_a_reason() {
    let src = with("\"us-east-1\"]", "\"us-iso-east-1\"]");
    one_error_at(
        &src,
        "\"us-iso-east-1\"",
        0,
        "isolated (aws-iso*) partition",
    );
}

const DATA_EVENTS: &str = "cloudwatch_logs_retention_days = 365\n";

#[test]
fn data_events_and_insights_are_read_with_their_defaults() {
    let (spec, _) = parse_spec("org.toml", BASE).unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(!spec.trail.data_events.any());
    assert!(spec.trail.insights.is_empty());

    let src = with(
        DATA_EVENTS,
        "cloudwatch_logs_retention_days = 365\ninsights = [\"ApiErrorRateInsight\", \"ApiCallRateInsight\"]\n\n[trail.data_events]\ns3 = \"WriteOnly\"\ns3_bucket_arns = [\"arn:aws:s3:::payments/\"]\nlambda = true\n",
    );
    let (spec, _) = parse_spec("org.toml", &src).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let events = &spec.trail.data_events;
    assert_eq!(events.s3, Some(trailhead_model::ReadWriteType::WriteOnly));
    assert_eq!(events.s3_bucket_arns, ["arn:aws:s3:::payments/"]);
    assert!(events.lambda);
    assert_eq!(
        spec.trail.insights,
        [
            trailhead_model::InsightType::ApiErrorRate,
            trailhead_model::InsightType::ApiCallRate
        ]
    );
}

#[test]
fn a_data_event_prefix_reaching_the_archive_bucket_is_refused() {
    let src = with(
        DATA_EVENTS,
        "cloudwatch_logs_retention_days = 365\n\n[trail.data_events]\ns3 = \"All\"\ns3_bucket_arns = [\"arn:aws:s3:::acme-cloudtrail-222222222222/AWSLogs/\"]\n",
    );
    let help = one_error_at(
        &src,
        "\"arn:aws:s3:::acme-cloudtrail-222222222222/AWSLogs/\"",
        0,
        "reaches the log archive's own bucket",
    );
    assert!(help.contains("loop"), "{help}");
}

#[test]
fn a_data_event_prefix_must_be_an_object_arn_with_a_bucket() {
    let src = with(
        DATA_EVENTS,
        "cloudwatch_logs_retention_days = 365\n\n[trail.data_events]\ns3 = \"All\"\ns3_bucket_arns = [\"arn:aws:s3:::payments/\", \"payments\", \"arn:aws:s3:::pay\"]\n",
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs[0].1.contains("is not an S3 object ARN prefix"),
        "{errs:#?}"
    );
    assert!(
        errs[1].1.contains("has no `/` after the bucket name"),
        "{errs:#?}"
    );
}

#[test]
fn bucket_arns_without_s3_and_unknown_kinds_are_refused() {
    let src = with(
        DATA_EVENTS,
        "cloudwatch_logs_retention_days = 365\n\n[trail.data_events]\ns3_bucket_arns = [\"arn:aws:s3:::payments/\"]\n",
    );
    one_error_at(
        &src,
        "[trail.|data_events]",
        0,
        "`s3_bucket_arns` is set but `s3` is not",
    );
    let src = with(
        DATA_EVENTS,
        "cloudwatch_logs_retention_days = 365\n\n[trail.data_events]\ns3 = \"write\"\n",
    );
    let help = one_error_at(&src, "\"write\"", 0, "is not a CloudTrail ReadWriteType");
    assert!(help.contains("\"WriteOnly\""), "{help}");
}

#[test]
fn insights_need_the_management_events_they_analyse() {
    let src = with(
        DATA_EVENTS,
        "cloudwatch_logs_retention_days = 365\nmanagement_events = \"ReadOnly\"\ninsights = [\"ApiErrorRateInsight\", \"ApiCallRateInsight\"]\n",
    );
    one_error_at(
        &src,
        "\"ApiCallRateInsight\"",
        0,
        "ApiCallRateInsight analyses write management events",
    );
    let src = with(
        DATA_EVENTS,
        "cloudwatch_logs_retention_days = 365\ninsights = [\"ApiCallRateInsight\", \"ApiCallRateInsight\", \"Anomaly\"]\n",
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(errs[0].1.contains("is listed twice"), "{errs:#?}");
    assert!(
        errs[1].1.contains("is not a CloudTrail Insights type"),
        "{errs:#?}"
    );
}

#[test]
fn athena_defaults_and_its_bad_values_are_located() {
    let (spec, _) = parse_spec("org.toml", &format!("{BASE}\n[athena]\n")).unwrap();
    let athena = spec.athena.unwrap();
    assert_eq!(athena.database, "trailhead_acme");
    assert_eq!(athena.table, "cloudtrail");
    assert_eq!(athena.workgroup, "trailhead");
    assert_eq!(athena.bytes_scanned_cutoff_gb, 100);
    assert_eq!(athena.start_day, "2013/11/01");
    let (spec, _) = parse_spec("org.toml", BASE).unwrap();
    assert!(spec.athena.is_none());

    let src = format!("{BASE}\n[athena]\ndatabase = \"Audit-Logs\"\n");
    one_error_at(&src, "\"Audit-Logs\"", 0, "lower-case");
    let src = format!("{BASE}\n[athena]\nstart_date = \"2026/01/01\"\n");
    one_error_at(&src, "\"2026/01/01\"", 0, "YYYY-MM-DD");
    let src = format!("{BASE}\n[athena]\nbytes_scanned_cutoff_gb = 0\n");
    one_error_at(&src, "cutoff_gb = |0", 0, "between 1 and");
    let src = format!("{BASE}\n[athena]\nstart_date = \"2026-02-01\"\n");
    let (spec, _) = parse_spec("org.toml", &src).unwrap();
    assert_eq!(spec.athena.unwrap().start_day, "2026/02/01");
}

#[test]
fn waves_may_not_be_empty_nor_take_the_automatic_name() {
    let src = with("name = \"rest\"", "name = \"remaining\"");
    let help = one_error_at(&src, "\"remaining\"", 0, "automatic last wave");
    assert!(help.contains("another name"), "{help}");
}

#[test]
fn regions_of_another_partition_are_refused() {
    let src = with(
        "regions = [\"eu-west-1\", \"us-east-1\"]",
        "regions = [\"eu-west-1\", \"cn-north-1\"]",
    );
    one_error_at(&src, "\"cn-north-1\"", 0, "aws-cn partition");
}

#[test]
fn lengths_count_characters_not_bytes() {
    // 40 two-byte characters: 80 bytes, yet under 64 characters, so the character is what is
    // wrong, not the length.
    let role = "é".repeat(40);
    let src = format!("{BASE}\n[access]\nrole_name = \"{role}\"\n");
    let errs = errors(&src);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].1.contains("has `é`"), "{}", errs[0].1);
}

#[test]
fn a_stray_byte_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, what) in [(0x9Fu8, "0x9F"), (0u8, "NUL")] {
        let path = dir.path().join("org.toml");
        let mut bytes = BASE.as_bytes().to_vec();
        let at = BASE.find("kms_alias").unwrap() + 3;
        bytes.insert(at, bad);
        std::fs::write(&path, &bytes).unwrap();
        match trailhead_model::load_file(&path) {
            Err(trailhead_model::LoadError::Invalid(d)) => {
                assert_eq!(d.items.len(), 1);
                assert!(d.items[0].message.contains(what), "{}", d.items[0].message);
                assert_eq!(d.items[0].location(&d.source), Location::of(BASE, at));
                let shown = d.render(false);
                assert!(
                    shown.contains(&format!("org.toml:{}", Location::of(BASE, at).line)),
                    "{shown}"
                );
            }
            other => panic!("a stray byte was accepted: {other:?}"),
        }
    }
}

#[test]
fn pathologically_nested_input_is_reported_where_it_starts() {
    // A string and a comment with brackets come first: they open nothing.
    let deep = format!(
        "note = \"[[{{\" # ]]\nnested = {}{}{}{}\n",
        "[\n".repeat(300),
        "[".repeat(3000),
        "]".repeat(3000),
        "\n]".repeat(300)
    );
    let src = with("[trail]\n", &format!("[trail]\n{deep}"));
    one_error_at(
        &src,
        "nested = |[",
        0,
        "nests arrays or inline tables deeper than a spec can",
    );
    let tables = with(
        "[trail]\n",
        &format!("[trail]\nx = {}1{}\n", "{a=".repeat(3000), "}".repeat(3000)),
    );
    one_error_at(&tables, "x = |{", 0, "deeper than a spec can");
}

/// Independent problems are reported together: a bad region in [org] does not hide a wave member
/// that names nobody, and an unquoted account id is told to be quoted.
#[test]
fn independent_problems_are_all_reported_and_an_unquoted_id_is_told_to_quote_it() {
    let src = BASE
        .replacen(
            "management_account = \"111111111111\"",
            "management_account = 111111111111",
            1,
        )
        .replacen(
            "regions = [\"eu-west-1\", \"us-east-1\"]",
            "regions = [\"eu-west-1\", \"us-eest-1\"]",
            1,
        )
        .replacen("members = [\"sandbox\"]", "members = [\"sandbx\"]", 1);
    let errs = errors(&src);
    let messages: Vec<&str> = errs.iter().map(|(_, m, _)| m.as_str()).collect();
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(
        messages.iter().any(|m| m.contains("`us-eest-1`")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("`sandbx`")),
        "{messages:?}"
    );
    let (_, _, help) = errs
        .iter()
        .find(|(_, m, _)| m.contains("management_account"))
        .expect("the unquoted id");
    assert!(
        help.contains("quote it: management_account = \"111111111111\""),
        "{help}"
    );
}
