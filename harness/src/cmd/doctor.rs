//! `mcubench doctor`: what hardware this host sees (debug probes, serial ports, energy meters)
//! against what targets.toml expects of each board, and what is missing, in sentences.

use anyhow::Result;

use crate::project::Project;
use crate::targets::{Board, Deploy, Targets, Transport};

#[derive(Debug, clap::Args)]
pub struct Args {}

/// A serial port of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub path: String,
    /// USB vendor:product and product name, when it is a USB port.
    pub usb: Option<(u16, u16, String)>,
}

/// The PPK2's USB ids (Nordic Semiconductor, PPK2).
pub const PPK2_USB: (u16, u16) = (0x1915, 0xc00a);

impl Port {
    pub fn is_ppk2(&self) -> bool {
        self.usb
            .as_ref()
            .is_some_and(|(v, p, name)| (*v, *p) == PPK2_USB || name == "PPK2")
    }
}

/// The serial ports of the host (sysfs, no libudev).
pub fn serial_ports() -> Vec<Port> {
    serialport::available_ports()
        .unwrap_or_default()
        .into_iter()
        .map(|p| Port {
            path: p.port_name,
            usb: match p.port_type {
                serialport::SerialPortType::UsbPort(u) => {
                    Some((u.vid, u.pid, u.product.unwrap_or_default()))
                }
                _ => None,
            },
        })
        .collect()
}

/// One board's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCheck {
    pub board: String,
    pub expects: String,
    /// Empty when the board looks ready.
    pub missing: Vec<String>,
}

/// Checks each board of `targets` against the probes (`probe_count`, their serials) and ports.
pub fn diagnose(
    targets: &Targets,
    probe_serials: &[Option<String>],
    ports: &[Port],
) -> Vec<BoardCheck> {
    let has_port = |path: &str| ports.iter().any(|p| p.path == path);
    targets
        .boards
        .iter()
        .map(|board| {
            let mut missing = Vec::new();
            let mut expects = Vec::new();
            match &board.deploy {
                Deploy::ProbeRs { chip, probe } => {
                    expects.push(format!(
                        "debug probe {} for chip {chip}",
                        probe.as_deref().unwrap_or("(any)")
                    ));
                    match probe {
                        None if probe_serials.is_empty() => missing.push(format!(
                            "no debug probe attached: connect the board's debug USB ({})",
                            probe_hint(board)
                        )),
                        None if probe_serials.len() > 1 => missing.push(
                            "several probes are attached: set deploy.probe to this board's probe serial (`mcubench probes`)".into(),
                        ),
                        Some(sel)
                            if !probe_serials.iter().flatten().any(|s| {
                                s.eq_ignore_ascii_case(sel) || sel.to_ascii_lowercase().ends_with(&s.to_ascii_lowercase())
                            }) =>
                        {
                            missing.push(format!("no attached probe has serial {sel}"))
                        }
                        _ => {}
                    }
                }
                Deploy::Serial {
                    bootloader,
                    port,
                    baud,
                } => {
                    expects.push(format!("{bootloader} on {port} at {baud} baud"));
                    if !has_port(port) {
                        missing.push(format!(
                            "{port} is not a serial port of this host: plug in the board's USB, or set deploy.port to one of the ports listed above"
                        ));
                    }
                }
            }
            if let Transport::Uart { port, baud, .. } = &board.transport {
                expects.push(format!("records on UART {port} at {baud} baud"));
                let same = matches!(&board.deploy, Deploy::Serial { port: p, .. } if p == port);
                if !same && !has_port(port) {
                    missing.push(format!("{port} (transport.port) is not a serial port of this host"));
                }
            } else {
                expects.push("records over RTT".into());
            }
            match &board.energy.meter {
                Some(m) => {
                    expects.push(format!(
                        "PPK2 on {} gated by D{}, wired to the board's GPIO {}",
                        m.port, m.gate_input, m.gate_gpio
                    ));
                    if !ports.iter().any(|p| p.path == m.port && p.is_ppk2()) {
                        missing.push(format!(
                            "no PPK2 on {}: plug it in, or fix energy.meter_port (energy is then estimated if you remove energy.meter)",
                            m.port
                        ));
                    }
                }
                None => expects.push("energy estimated (no meter)".into()),
            }
            BoardCheck {
                board: board.name.clone(),
                expects: expects.join("; "),
                missing,
            }
        })
        .collect()
}

fn probe_hint(board: &Board) -> &'static str {
    match board.chip.to_ascii_lowercase() {
        c if c.starts_with("stm32") => "the NUCLEO's ST-LINK USB, CN1",
        c if c.starts_with("nrf") => "the DK's J-Link USB, J2",
        c if c.starts_with("rp2040") => {
            "a CMSIS-DAP probe such as the Raspberry Pi Debug Probe on the Pico's SWD pads"
        }
        _ => "see docs/HARDWARE.md",
    }
}

/// The whole report, as printed.
pub fn report(
    targets: &Targets,
    probes: &[String],
    probe_serials: &[Option<String>],
    ports: &[Port],
) -> String {
    let mut out = String::new();
    out.push_str("debug probes:\n");
    for p in probes {
        out.push_str(&format!("  {p}\n"));
    }
    out.push_str("serial ports:\n");
    if ports.is_empty() {
        out.push_str("  none: no USB-serial board or meter is plugged in\n");
    }
    for p in ports {
        match &p.usb {
            Some((v, pid, name)) => {
                out.push_str(&format!("  {} (USB {v:04x}:{pid:04x} {name})\n", p.path))
            }
            None => out.push_str(&format!("  {}\n", p.path)),
        }
    }
    out.push_str("energy meters:\n");
    let meters: Vec<&Port> = ports.iter().filter(|p| p.is_ppk2()).collect();
    if meters.is_empty() {
        out.push_str("  none: energy will be estimated from targets.toml's energy model\n");
    }
    for m in meters {
        out.push_str(&format!("  Nordic PPK2 on {}\n", m.path));
    }
    out.push_str(&format!("boards of {}:\n", targets.path.display()));
    let checks = diagnose(targets, probe_serials, ports);
    for c in &checks {
        let verdict = if c.missing.is_empty() {
            "ready"
        } else {
            "not ready"
        };
        out.push_str(&format!(
            "  {}: {verdict} (expects {})\n",
            c.board, c.expects
        ));
        for m in &c.missing {
            out.push_str(&format!("    missing: {m}\n"));
        }
    }
    let ready: Vec<&str> = checks
        .iter()
        .filter(|c| c.missing.is_empty())
        .map(|c| c.board.as_str())
        .collect();
    if ready.is_empty() {
        out.push_str(&format!(
            "no board is ready for --deploy hw ({} in targets.toml); the virtual boards always are: `mcubench run`\n",
            checks.len()
        ));
    } else {
        out.push_str(&format!(
            "ready: `mcubench run --deploy hw --board {}`\n",
            ready.join(",")
        ));
    }
    out
}

pub fn run(project: &Project, _args: &Args) -> Result<()> {
    let targets = project.targets()?;
    let probes = super::probes::lines();
    #[cfg(feature = "probe-rs")]
    let serials: Vec<Option<String>> = crate::deploy::probe::list()
        .into_iter()
        .map(|p| p.serial)
        .collect();
    #[cfg(not(feature = "probe-rs"))]
    let serials: Vec<Option<String>> = Vec::new();
    print!("{}", report(&targets, &probes, &serials, &serial_ports()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets;

    fn targets() -> Targets {
        targets::parse(
            std::path::Path::new("targets.toml"),
            include_str!("../../../targets.toml"),
        )
        .unwrap()
    }

    #[test]
    fn with_no_hardware_every_board_says_what_is_missing() {
        let t = targets();
        let no_probe = "no debug probe found: plug in the board's USB (ST-LINK, J-Link) or the CMSIS-DAP probe, and on Linux install the udev rules of docs/HARDWARE.md";
        let text = report(&t, &[no_probe.into()], &[], &[]);
        insta::assert_snapshot!(text);
        assert!(text.contains("serial ports:\n  none"), "{text}");
        assert!(text.contains("nucleo-l4r5zi: not ready"), "{text}");
        assert!(
            text.contains(
                "no debug probe attached: connect the board's debug USB (the NUCLEO's ST-LINK"
            ),
            "{text}"
        );
        assert!(
            text.contains("/dev/ttyUSB0 is not a serial port of this host"),
            "{text}"
        );
        let count = format!(
            "no board is ready for --deploy hw ({} in targets.toml)",
            t.boards.len()
        );
        assert!(text.contains(&count), "{text}");
    }

    #[test]
    fn a_plugged_artemis_and_one_probe_make_boards_ready() {
        let t = targets();
        let ports = [Port {
            path: "/dev/ttyUSB0".into(),
            usb: Some((0x1a86, 0x7523, "USB Serial".into())),
        }];
        let checks = diagnose(&t, &[Some("0668FF".into())], &ports);
        let of = |name: &str| checks.iter().find(|c| c.board == name).unwrap();
        assert!(
            of("sparkfun-artemis").missing.is_empty(),
            "{:?}",
            of("sparkfun-artemis")
        );
        assert!(of("pico").missing.is_empty());
        let two = diagnose(&t, &[Some("A".into()), Some("B".into())], &ports);
        assert!(
            two[0].missing[0].contains("set deploy.probe"),
            "{:?}",
            two[0]
        );
    }
}
