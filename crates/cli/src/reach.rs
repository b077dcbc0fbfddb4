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
        Connection::endpoint(url.clone(), args.ca_bundle.clone())
    } else {
        let mut conn = Connection::aws();
        conn.ca_bundle = args.ca_bundle.clone();
        conn
    };
    conn.prepare().map_err(|e| e.to_string())
}

pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // SDK futures are large in unoptimised builds; give workers room.
        .thread_stack_size(8 * 1024 * 1024)
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
