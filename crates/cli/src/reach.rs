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
        Connection::emulator(emulator.endpoint(), emulator.ca_path())
    } else if let Some(url) = &args.endpoint_url {
        let mut conn = Connection::endpoint(url.clone(), args.ca_bundle.clone());
        conn.profile = args.profile.clone();
        conn
    } else {
        let mut conn = Connection::aws();
        conn.ca_bundle = args.ca_bundle.clone();
        conn.profile = args.profile.clone();
        conn
    };
    conn.prepare().map_err(|e| e.to_string())
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
    if let Some(profile) = &args.profile {
        words.extend(["--profile".into(), profile.clone()]);
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
