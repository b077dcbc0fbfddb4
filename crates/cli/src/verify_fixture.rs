//! The verify report the output tests share: two accounts (one with a pass, a failure and an
//! unknown; one passing, with a control not judged there), and a skipped account.

use trailhead_provisioner::verify::ControlInfo;
use trailhead_provisioner::verify::{
    AccountReport, ControlResult, Skipped, Summary, Verdict, VerifyReport,
};

fn result(id: &str, status: Verdict, evidence: &str) -> ControlResult {
    ControlResult {
        id: id.into(),
        status,
        evidence: evidence.into(),
        observed: format!("read for {id}"),
        required: format!("what {id} needs"),
    }
}

pub fn report() -> VerifyReport {
    VerifyReport {
        org: "acme".into(),
        generated_at: "2026-12-03T15:00:00Z".into(),
        trailhead_version: "0.1.0".into(),
        benchmark: "cis-3.0".into(),
        controls: ["CloudTrail.1", "S3.20", "CloudTrail.Delivery"]
            .iter()
            .map(|id| ControlInfo {
                id: (*id).into(),
                title: format!("title of {id}"),
                required: format!("what {id} needs"),
            })
            .collect(),
        accounts: vec![
            AccountReport {
                account_id: "111122223333".into(),
                name: "prod <main>".into(),
                controls: vec![
                    result("CloudTrail.1", Verdict::Pass, "multi-region"),
                    result("S3.20", Verdict::Fail, "MfaDelete \"Disabled\""),
                    result("CloudTrail.Delivery", Verdict::Unknown, "no delivery"),
                ],
            },
            AccountReport {
                account_id: "444455556666".into(),
                name: "dev".into(),
                controls: vec![result("CloudTrail.1", Verdict::Pass, "multi-region")],
            },
        ],
        skipped: vec![Skipped {
            account_id: "777788889999".into(),
            name: "old".into(),
            reason: "SUSPENDED: the account is suspended".into(),
        }],
        summary: Summary {
            accounts: 2,
            pass: 2,
            fail: 1,
            unknown: 1,
        },
    }
}
