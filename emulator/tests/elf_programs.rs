//! End-to-end: fixture ELFs built from tests/fixtures/src run to their semihosting exit.

mod common;
use common::run_fixture;
use emulator::CoreKind;

#[test]
fn hello_world_prints_and_exits_on_both_cores() {
    for (core, elf) in [
        (CoreKind::M0Plus, "hello-m0plus.elf"),
        (CoreKind::M4F, "hello-m4f.elf"),
    ] {
        let (code, out) = run_fixture(core, elf);
        assert_eq!(code, 0, "{elf}");
        assert_eq!(out, "Hello, world! 42\n", "{elf}");
    }
}

mod kernels {
    #![allow(dead_code)]
    include!("fixtures/src/kernels.rs");
}

/// What tests/fixtures/src/compute.rs prints, computed on the host from the same kernels.
fn expected_compute_output() -> String {
    use kernels::*;
    let n = 200u32;
    let mut r = Lcg(n);
    let mut a = [0u32; 32];
    let mut b = [0u32; 32];
    for k in 0..32 {
        a[k] = r.next() & 0x3fff_3fff;
        b[k] = r.next() & 0x3fff_3fff;
    }
    format!(
        "int {:08x} sort {:08x} matmul {:08x} dot {:08x} float {:08x}\n",
        integer_mix(n),
        bubble_sort_checksum(n as usize),
        int8_matmul(n),
        q15_dot_soft(&a, &b),
        float_mix(n)
    )
}

#[test]
fn compute_program_agrees_across_m0plus_m4f_and_host() {
    let expected = expected_compute_output();
    let (code0, out0) = run_fixture(CoreKind::M0Plus, "compute-m0plus.elf");
    let (code4, out4) = run_fixture(CoreKind::M4F, "compute-m4f.elf");
    assert_eq!((code0, code4), (0, 0));
    assert_eq!(
        out0, expected,
        "thumbv6m build on the M0+ differs from the host"
    );
    assert_eq!(
        out4, expected,
        "thumbv7em build on the M4F differs from the host"
    );
}

#[test]
fn timing_hook_sees_every_instruction() {
    use emulator::{CountingTiming, InsnClass, Machine, MachineConfig, StopReason};
    let config = MachineConfig::new(CoreKind::M4F, common::fixture_map());
    let mut m = Machine::with_timing(config, CountingTiming::default()).expect("valid map");
    let bytes = std::fs::read(common::fixture("compute-m4f.elf")).expect("fixture exists");
    m.load_elf(&bytes).expect("loads");
    m.reset().expect("resets");
    assert_eq!(m.run(u64::MAX), StopReason::Exit { code: 0 });
    let t = &m.timing;
    assert_eq!(t.instructions, m.instructions());
    assert_eq!(t.per_class.iter().sum::<u64>(), m.instructions());
    assert_eq!(m.cycles(), m.instructions(), "one cycle per instruction");
    for class in [
        InsnClass::Alu,
        InsnClass::Load,
        InsnClass::Branch,
        InsnClass::Fpu,
        InsnClass::Multiply,
    ] {
        assert!(
            t.per_class[class as usize] > 0,
            "no {class:?} instruction seen"
        );
    }
    assert!(t.branches_taken > 0 && t.transfers > 0);
}
