//! `mcubench probes`: the debug probes attached to this host.

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> Result<()> {
    for line in lines() {
        println!("{line}");
    }
    Ok(())
}

/// What `probes` prints: one line per probe, or the sentence that says there is none.
pub fn lines() -> Vec<String> {
    #[cfg(feature = "probe-rs")]
    {
        let probes = crate::deploy::probe::list();
        if probes.is_empty() {
            return vec![crate::deploy::probe::NO_PROBE.to_owned()];
        }
        probes.iter().map(|p| p.to_string()).collect()
    }
    #[cfg(not(feature = "probe-rs"))]
    {
        vec!["this mcubench was built without the `probe-rs` feature, so it cannot see debug probes; rebuild with `cargo build --release --features probe-rs`".to_owned()]
    }
}
