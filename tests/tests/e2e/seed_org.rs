//! The demo/test organization really exists in the emulator, and its spec is valid.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a test may stop at the first surprise

use aws_sdk_organizations::Client;
use trailhead_e2e::{REGION, emulator, seed};

#[tokio::test]
async fn seeded_accounts_exist_in_their_ous_and_the_spec_validates() {
    let conn = emulator();
    let org = seed(&conn, "seed", 4).await;
    assert_eq!(org.members.len(), 4);
    assert!(org.org_id.starts_with("o-"), "{}", org.org_id);

    let config = conn.base_config(REGION).await;
    let client = Client::new(&config);
    for account in org.all_accounts() {
        let described = client
            .describe_account()
            .account_id(&account.id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeAccount {}: {e:?}", account.id));
        let live = described.account().expect("account");
        assert_eq!(live.email(), Some(account.email.as_str()));
        let parents = client
            .list_parents()
            .child_id(&account.id)
            .send()
            .await
            .expect("ListParents");
        let parent = parents.parents()[0].id().expect("parent id").to_string();
        let ou = client
            .describe_organizational_unit()
            .organizational_unit_id(&parent)
            .send()
            .await
            .expect("DescribeOrganizationalUnit");
        assert_eq!(
            ou.organizational_unit().and_then(|o| o.name()),
            Some(account.ou.as_str())
        );
    }

    let spec_text = org.spec_toml("seedtest", REGION);
    let (spec, _) = trailhead_model::parse_spec("generated.toml", &spec_text)
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert_eq!(spec.accounts.len(), 6);
    assert_eq!(spec.waves.len(), 3);
}

#[tokio::test]
async fn seeding_twice_finds_the_same_accounts() {
    let conn = emulator();
    let prefix = trailhead_e2e::unique("again");
    let req = trailhead_emulator_support::seed::SeedRequest {
        prefix,
        members: 2,
        region: REGION.into(),
        plant_unreachable: true,
        include_management: false,
    };
    let first = trailhead_emulator_support::seed::seed_org(&conn, &req)
        .await
        .expect("first seed");
    let second = trailhead_emulator_support::seed::seed_org(&conn, &req)
        .await
        .expect("second seed");
    let ids = |o: &trailhead_emulator_support::seed::SeededOrg| {
        o.all_accounts().map(|a| a.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), ids(&second));
    let planted = |o: &trailhead_emulator_support::seed::SeededOrg| {
        o.planted
            .iter()
            .map(|(a, _)| a.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        planted(&first).len(),
        2,
        "a closed account and one without the role"
    );
    assert_eq!(planted(&first), planted(&second));
}
