//! The energy meter's gate, end to end on the virtual boards: the metered back end asks for the
//! gate in the partition, the firmware raises its GPIO around the timed runs, the emulated chip
//! records the pin's edges at their cycle counts, and a meter whose digital input follows that
//! pin gives the energy of one inference through the same integration as a PPK2's samples.

use std::path::Path;

use mcubench::deploy::emulator::{End, Limits, VirtualBoard};
use mcubench::deploy::metered::gated;
use mcubench::energy::{gated_energy, Sample};
use mcubench::firmware;
use mcubench::job::{self, RunSettings};
use mcubench::project::Project;
use mcubench::results::Variant;
use mcubench::targets::{gate_pin_taken, gate_pins, Board, Transport};
use mcubench::workloads::Workload;

const TIMED_RUNS: u32 = 5;

/// A gate pin of `board`, in its chip's numbering: the highest pin the chip has that targets.toml
/// would accept (not reserved by the chip, not the board's UART): a pin chosen the way a user
/// would, from the same knowledge, for every board.
fn gate_pin(board: &Board) -> u32 {
    let (count, _) = gate_pins(&board.chip).expect("a chip with a model");
    let uart = match &board.transport {
        Transport::Uart {
            pins: Some(pins), ..
        } => vec![pins.tx, pins.rx],
        _ => Vec::new(),
    };
    (0..count)
        .rev()
        .find(|&pin| gate_pin_taken(&board.chip, pin).is_none() && !uart.contains(&pin))
        .unwrap_or_else(|| panic!("{}: no free gate pin", board.name))
}

struct Setup {
    project: Project,
    boards: Vec<Board>,
    digits: Workload,
}

fn setup() -> Setup {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let project = Project::discover(Some(&root)).unwrap();
    let boards = project.targets().unwrap().boards;
    let digits = Workload::load_all(&project.root)
        .unwrap()
        .into_iter()
        .find(|w| w.name == "digits")
        .unwrap();
    Setup {
        project,
        boards,
        digits,
    }
}

/// The digits FIQ partition for `board`, gated on `pin`; the board with its firmware, run.
fn run_gated(s: &Setup, board: &Board, pin: u32) -> VirtualBoardRun {
    let settings = RunSettings {
        warmup_runs: 1,
        timed_runs: TIMED_RUNS,
        sample: 0,
        limits: Limits::default(),
        accuracy: None,
    };
    let variant = s
        .digits
        .variants
        .iter()
        .find(|v| v.variant == Variant::Fiq)
        .unwrap();
    let job = job::prepare(board, &s.digits, variant, &settings).unwrap();
    let partition = gated(&job.partition, pin).unwrap();
    let fw = firmware::build(&s.project, board).unwrap();
    let elf = std::fs::read(&fw.elf).unwrap();
    let mut vb = VirtualBoard::new(board, &elf, "fw.elf").unwrap();
    vb.write_partition(board, &partition).unwrap();
    let run = vb.run(Limits::default(), |_| {});
    VirtualBoardRun {
        edges: vb
            .gpio()
            .iter()
            .filter(|c| c.pin == pin)
            .map(|c| (c.cycles, c.high))
            .collect(),
        run,
    }
}

struct VirtualBoardRun {
    run: mcubench::deploy::emulator::Run,
    /// (cycles, level) of the gate pin's edges.
    edges: Vec<(u64, bool)>,
}

#[test]
fn the_gate_is_high_over_the_timed_runs_and_gives_their_energy() {
    let s = setup();
    for board in &s.boards {
        let pin = gate_pin(board);
        let VirtualBoardRun { run, edges } = run_gated(&s, board, pin);
        assert_eq!(
            run.end,
            End::Done,
            "{}: {}",
            board.name,
            String::from_utf8_lossy(&run.stream.log)
        );
        let m = &run.stream.measurements;
        assert_eq!(m.cycles.len(), TIMED_RUNS as usize, "{}", board.name);
        assert_eq!(m.meta("gate_gpio"), Some(pin.to_string().as_str()));
        // One window: up before the first timed run, down after the last.
        let [(rise, true), (fall, false)] = edges[..] else {
            panic!("{}: gate edges {edges:?}", board.name);
        };
        let timed: u64 = m.cycles.iter().sum();
        let window = fall - rise;
        assert!(
            window >= timed && window <= timed + timed / 20 + 20_000,
            "{}: window {window} cycles for {timed} cycles of timed runs",
            board.name
        );

        // A meter sampling at 100 kHz whose input D2 follows the pin, on a 5 mA, 3.3 V supply.
        let rate = 100_000.0;
        let clock = board.clock_hz as f64;
        let samples: Vec<Sample> = (0..)
            .map(|i| (i as f64 / rate * clock) as u64)
            .take_while(|&c| c < run.cycles)
            .map(|c| Sample {
                current_a: 5e-3,
                logic: if (rise..fall).contains(&c) { 0b100 } else { 0 },
            })
            .collect();
        let g = gated_energy(&samples, 2, 3.3, rate).unwrap();
        let per_inference = g.energy_uj / f64::from(TIMED_RUNS);
        let expected = 3.3 * 5e-3 * (timed as f64 / clock) / f64::from(TIMED_RUNS) * 1e6;
        eprintln!(
            "{}: gate window {window} cycles over {timed} cycles of timed runs; {per_inference:.3} uJ per inference measured, {expected:.3} uJ from the cycles",
            board.name
        );
        assert!(
            (per_inference - expected).abs() / expected < 0.06,
            "{}: {per_inference:.3} uJ measured, {expected:.3} uJ from the cycles",
            board.name
        );
    }
}

#[test]
fn a_gate_pin_the_chip_lacks_is_a_clear_error() {
    let s = setup();
    let pico = s.boards.iter().find(|b| b.name == "pico").unwrap();
    let VirtualBoardRun { run, edges } = run_gated(&s, pico, 30);
    assert!(edges.is_empty());
    match &run.end {
        End::FirmwareError(reason) => assert!(
            reason.contains("gate GPIO 30 does not exist on this chip (GP0 to GP29)"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}
