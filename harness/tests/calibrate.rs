//! The calibration kernels run on every virtual board's timing, deterministically, with CPIs
//! in the range the Cortex-M TRMs allow; `mcubench calibrate` writes its report from them.

use std::path::Path;

use emulator::chips::Chip;
use emulator::CoreKind;
use mcubench::cmd::calibrate::{run_kernels, KERNELS};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../emulator/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn kernels_run_on_every_chip_deterministically() {
    let m4 = fixture("calibrate-m4f.elf");
    let m0 = fixture("calibrate-m0plus.elf");
    for (elf, core, chip) in [
        (&m4, CoreKind::M4F, Chip::STM32L4R5),
        (&m4, CoreKind::M4F, Chip::NRF52840),
        (&m4, CoreKind::M4F, Chip::APOLLO3),
        (&m0, CoreKind::M0Plus, Chip::RP2040),
    ] {
        let a = run_kernels(elf, core, chip).unwrap();
        let b = run_kernels(elf, core, chip).unwrap();
        assert_eq!(a, b, "{chip:?}: not deterministic");
        assert_eq!(a.len(), KERNELS.len());
        for (m, (name, _)) in a.iter().zip(KERNELS) {
            assert!(m.instructions > 1000, "{chip:?} {name}: {m:?}");
            // No instruction is faster than one cycle; none of these kernels averages more
            // than 3 (the slowest common classes, loads and taken branches, are 2-3).
            assert!(
                (1.0..3.0).contains(&m.cpi()),
                "{chip:?} {name}: CPI {}",
                m.cpi()
            );
        }
    }
}
