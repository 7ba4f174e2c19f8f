//! Executor tests per instruction family against hand-computed results, flags included.
//! The instruction words come from tests/common/snippets.rs (assembled by llvm-mc, see
//! tests/fixtures/src/gen_snippets.py).

#[path = "common/snippets.rs"]
mod snippets;
use snippets::*;

use emulator::{
    CoreKind, FaultKind, HangKind, Machine, MachineConfig, MemoryMap, Region, RegionKind,
    StopReason, UsageFault,
};

const CODE: u32 = 0x100;
const RAM: u32 = 0x2000_0000;
const STACK_TOP: u32 = 0x2000_8000;
const SVC_HANDLER: u32 = 0x200;
const SYSTICK_HANDLER: u32 = 0x240;

/// adds r5, #10; bx lr (r5 is not part of the stacked frame, so the change survives return)
const DEFAULT_SVC: &[u16] = &[0x350a, 0x4770];
/// adds r6, #1; bx lr
const TICK: &[u16] = &[0x3601, 0x4770];

fn machine(core: CoreKind) -> Machine {
    let map = MemoryMap::new(vec![
        Region::new("FLASH", 0, 64 << 10, RegionKind::Flash),
        Region::new("RAM", RAM, 64 << 10, RegionKind::Ram),
    ]);
    Machine::new(MachineConfig::new(core, map)).expect("valid map")
}

fn put_code(m: &mut Machine, addr: u32, code: &[u16]) {
    let bytes: Vec<u8> = code.iter().flat_map(|h| h.to_le_bytes()).collect();
    assert!(m.write_memory(addr, &bytes));
}

/// Boot a machine whose reset handler is `code` followed by `BKPT #0`, with an SVC handler,
/// a SysTick handler, and `setup` applied after reset.
fn boot_with(
    core: CoreKind,
    code: &[u16],
    svc: &[u16],
    setup: impl FnOnce(&mut Machine),
) -> Machine {
    let mut m = machine(core);
    let mut vectors = vec![0u8; 68];
    vectors[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    vectors[4..8].copy_from_slice(&(CODE | 1).to_le_bytes());
    vectors[44..48].copy_from_slice(&(SVC_HANDLER | 1).to_le_bytes());
    vectors[56..60].copy_from_slice(&(SYSTICK_HANDLER | 1).to_le_bytes()); // PendSV shares it
    vectors[60..64].copy_from_slice(&(SYSTICK_HANDLER | 1).to_le_bytes());
    vectors[64..68].copy_from_slice(&(SYSTICK_HANDLER | 1).to_le_bytes()); // IRQ0 too
    assert!(m.write_memory(0, &vectors));
    let mut program = code.to_vec();
    program.push(0xbe00); // bkpt #0
    put_code(&mut m, CODE, &program);
    put_code(&mut m, SVC_HANDLER, svc);
    put_code(&mut m, SYSTICK_HANDLER, TICK);
    m.reset().expect("reset");
    setup(&mut m);
    m
}

fn end_of(code: &[u16]) -> u32 {
    CODE + 2 * code.len() as u32
}

/// Run `code` on `core` to its final BKPT; panics on any other stop.
fn run_on(core: CoreKind, code: &[u16], setup: impl FnOnce(&mut Machine)) -> Machine {
    let mut m = boot_with(core, code, DEFAULT_SVC, setup);
    match m.run(100_000) {
        StopReason::Breakpoint { pc, imm: 0 } if pc == end_of(code) => m,
        other => panic!(
            "expected the final BKPT at {:#x}, got {other:?}",
            end_of(code)
        ),
    }
}

fn run(code: &[u16], setup: impl FnOnce(&mut Machine)) -> Machine {
    run_on(CoreKind::M4F, code, setup)
}

/// Run and expect a fault; returns its report.
fn fault(core: CoreKind, code: &[u16], setup: impl FnOnce(&mut Machine)) -> (FaultKind, u32) {
    let mut m = boot_with(core, code, DEFAULT_SVC, setup);
    match m.run(100_000) {
        StopReason::Fault(report) => (report.kind, report.pc),
        other => panic!("expected a fault, got {other:?}"),
    }
}

fn set(m: &mut Machine, regs: &[(usize, u32)]) {
    for &(r, v) in regs {
        m.cpu.r[r] = v;
    }
}

fn nzcv(m: &Machine) -> (bool, bool, bool, bool) {
    (m.cpu.n, m.cpu.z, m.cpu.c, m.cpu.v)
}

fn enable_fpu(m: &mut Machine) {
    assert!(m.bus_write32(0xe000_ed88, 0xf << 20));
}

fn f(x: f32) -> u32 {
    x.to_bits()
}

// ---------------------------------------------------------------- data processing

#[test]
fn adds_sets_carry_zero_and_overflow() {
    let m = run(ADDS_CARRY, |m| set(m, &[(1, 0xffff_ffff), (2, 1)]));
    assert_eq!(m.cpu.r[0], 0);
    assert_eq!(nzcv(&m), (false, true, true, false));
    let m = run(ADDS_CARRY, |m| set(m, &[(1, 0x7fff_ffff), (2, 1)]));
    assert_eq!(m.cpu.r[0], 0x8000_0000);
    assert_eq!(nzcv(&m), (true, false, false, true));
}

#[test]
fn subs_and_cmp_use_not_borrow_carry() {
    let m = run(SUBS, |m| set(m, &[(1, 0), (2, 1)]));
    assert_eq!(m.cpu.r[0], 0xffff_ffff);
    assert_eq!(nzcv(&m), (true, false, false, false));
    let m = run(SUBS, |m| set(m, &[(1, 0x8000_0000), (2, 1)]));
    assert_eq!(m.cpu.r[0], 0x7fff_ffff);
    assert_eq!(nzcv(&m), (false, false, true, true));
    let m = run(CMP_EQ, |m| set(m, &[(1, 5), (2, 5)]));
    assert_eq!(nzcv(&m), (false, true, true, false));
}

#[test]
fn adc_and_sbc_consume_the_carry() {
    let m = run(ADC_SBC, |m| {
        set(m, &[(1, 1), (2, 2), (4, 10), (5, 3)]);
        m.cpu.c = true;
    });
    assert_eq!(m.cpu.r[0], 4);
    // ADCS cleared C, so SBCS subtracts one more.
    assert_eq!(m.cpu.r[3], 6);
    assert!(m.cpu.c);
}

#[test]
fn register_shifts_by_zero_32_and_more() {
    let lsl = |amount: u32, c: bool| {
        let m = run(LSL_REG, |m| {
            set(m, &[(0, 0x8000_0001), (1, amount)]);
            m.cpu.c = c;
        });
        (m.cpu.r[0], m.cpu.c)
    };
    assert_eq!(
        lsl(0, true),
        (0x8000_0001, true),
        "shift by 0 keeps the value and C"
    );
    assert_eq!(lsl(32, false), (0, true), "LSL #32: C = bit 0");
    assert_eq!(lsl(33, true), (0, false), "LSL > 32: C = 0");
    assert_eq!(lsl(0x101, false), (2, true), "only Rm<7:0> counts");
    let lsr = |amount: u32| {
        let m = run(LSR_REG, |m| set(m, &[(0, 0x8000_0001), (1, amount)]));
        (m.cpu.r[0], m.cpu.c)
    };
    assert_eq!(lsr(32), (0, true), "LSR #32: C = bit 31");
    assert_eq!(lsr(1), (0x4000_0000, true));
    let m = run(ASR_REG, |m| set(m, &[(0, 0x8000_0000), (1, 40)]));
    assert_eq!(
        (m.cpu.r[0], m.cpu.c),
        (0xffff_ffff, true),
        "ASR > 32 fills with the sign"
    );
    let ror = |amount: u32| {
        let m = run(ROR_REG, |m| set(m, &[(0, 0x8000_0001), (1, amount)]));
        (m.cpu.r[0], m.cpu.c)
    };
    assert_eq!(
        ror(32),
        (0x8000_0001, true),
        "ROR #32: value kept, C = bit 31"
    );
    assert_eq!(ror(4), (0x1800_0000, false));
    let m = run(RRX, |m| {
        set(m, &[(1, 3)]);
        m.cpu.c = true;
    });
    assert_eq!((m.cpu.r[0], m.cpu.c), (0x8000_0001, true));
}

#[test]
fn modified_immediate_carry_comes_from_the_rotation() {
    let m = run(ANDS_ROT_IMM, |m| {
        set(m, &[(1, 0xf0f0_f0f0)]);
        m.cpu.c = false;
    });
    assert_eq!(m.cpu.r[0], 0xf000_0000);
    assert!(m.cpu.c && m.cpu.n);
    for c in [false, true] {
        let m = run(ANDS_PLAIN_IMM, |m| {
            set(m, &[(1, 0x1234)]);
            m.cpu.c = c;
        });
        assert_eq!(m.cpu.r[0], 0x34);
        assert_eq!(m.cpu.c, c, "an unrotated immediate leaves C alone");
    }
}

#[test]
fn movw_movt_and_shifted_register_operands() {
    assert_eq!(run(MOVW_MOVT, |_| {}).cpu.r[0], 0x1234_5678);
    let m = run(ORN_BIC_EOR_SHIFTED, |m| {
        set(m, &[(1, 0xf0), (2, 0x8000_000f)])
    });
    assert_eq!(m.cpu.r[0], 0xffff_ffff);
    assert_eq!(m.cpu.r[3], 0xf0);
    assert_eq!(m.cpu.r[4], 0xffff_ff0f);
    assert_eq!(m.cpu.r[5], 0x0f7f_ff10);
}

#[test]
fn it_block_selects_and_suppresses_flag_setting() {
    let m = run(IT_EQ, |m| set(m, &[(0, 5)]));
    assert_eq!((m.cpu.r[1], m.cpu.r[2]), (1, 1));
    let m = run(IT_EQ, |m| set(m, &[(0, 6)]));
    assert_eq!((m.cpu.r[1], m.cpu.r[2]), (2, 1));
    // The 16-bit ADDS encoding inside an IT block does not set flags, so both adds run.
    let m = run(IT_FLAGS_IN_BLOCK, |_| {});
    assert_eq!((m.cpu.r[0], m.cpu.r[1]), (1, 1));
}

#[test]
fn cbz_and_table_branch() {
    let m = run(CBZ_TBB, |m| set(m, &[(0, 0), (2, 3)]));
    assert_eq!((m.cpu.r[1], m.cpu.r[3]), (0, 0));
    let m = run(CBZ_TBB, |m| set(m, &[(0, 1), (2, 0)]));
    assert_eq!((m.cpu.r[1], m.cpu.r[3]), (7, 30));
}

// ---------------------------------------------------------------- loads and stores

#[test]
fn load_addressing_modes_and_sign_extension() {
    let m = run(LDR_FORMS, |m| {
        assert!(m.write_memory(RAM + 0x104, &0x1111_1111u32.to_le_bytes()));
        assert!(m.write_memory(RAM + 0x108, &[0x80, 0xff, 0x34, 0x12]));
        set(m, &[(1, RAM + 0x100), (8, 1)]);
    });
    let r = &m.cpu.r;
    assert_eq!(r[0], 0x1111_1111, "pre-indexed with write-back");
    assert_eq!(r[2], 0x1111_1111, "post-indexed");
    assert_eq!(r[1], RAM + 0x100, "write-back of both");
    assert_eq!(r[3], 0xffff_ff80);
    assert_eq!(r[4], 0xffff_ff80);
    assert_eq!(r[5], 0xff);
    assert_eq!(r[6], 0x1234);
    assert_eq!(r[7], 0x1111_1111);
}

#[test]
fn store_forms_and_doubleword() {
    let m = run(STR_FORMS, |m| {
        set(m, &[(0, 0xa1b2_c3d4), (1, RAM + 0x100), (2, 1), (3, 2)])
    });
    assert_eq!(m.cpu.r[1], RAM + 0xfc);
    assert_eq!(m.read_u32(RAM + 0xfc), Some(0xa1b2_c3d4));
    let mut b = [0u8; 2];
    assert!(m.read_memory(RAM + 0x104, &mut b[..1]));
    assert_eq!(b[0], 0xd4);
    assert!(m.read_memory(RAM + 0x108, &mut b));
    assert_eq!(u16::from_le_bytes(b), 0xc3d4);
    assert_eq!(
        (m.read_u32(RAM + 0x10c), m.read_u32(RAM + 0x110)),
        (Some(1), Some(2))
    );
    assert_eq!((m.cpu.r[4], m.cpu.r[5]), (1, 2));
}

#[test]
fn literal_loads_use_the_aligned_pc() {
    let m = run(LDR_LITERAL, |_| {});
    assert_eq!((m.cpu.r[0], m.cpu.r[1]), (0xcafe_f00d, 0xcafe_f00d));
}

#[test]
fn push_pop_and_load_store_multiple() {
    let m = run(PUSH_POP, |m| set(m, &[(0, 1), (1, 2), (4, 4), (14, 0x77)]));
    assert_eq!(
        (m.cpu.r[0], m.cpu.r[1], m.cpu.r[4], m.cpu.r[5]),
        (1, 2, 4, 0x77)
    );
    assert_eq!(m.cpu.r[13], STACK_TOP);
    assert_eq!(m.read_u32(STACK_TOP - 16), Some(1));
    let m = run(STM_LDMDB, |m| {
        set(m, &[(1, RAM + 0x200), (2, 7), (3, 8), (4, 9)])
    });
    assert_eq!((m.cpu.r[5], m.cpu.r[6], m.cpu.r[7]), (7, 8, 9));
    assert_eq!(m.cpu.r[1], RAM + 0x200);
}

#[test]
fn exclusive_monitor() {
    let m = run(LDREX_STREX, |m| {
        assert!(m.write_memory(RAM + 0x300, &41u32.to_le_bytes()));
        set(m, &[(1, RAM + 0x300)]);
    });
    assert_eq!(m.read_u32(RAM + 0x300), Some(42));
    assert_eq!(
        (m.cpu.r[2], m.cpu.r[3]),
        (0, 1),
        "first STREX succeeds, second fails"
    );
}

#[test]
fn unaligned_access_rules() {
    let m = run(UNALIGNED_LDR, |m| {
        assert!(m.write_memory(RAM, &[0x11, 0x22, 0x33, 0x44, 0x55]));
        set(m, &[(1, RAM + 1)]);
    });
    assert_eq!(m.cpu.r[0], 0x5544_3322, "ARMv7-M LDR may be unaligned");
    let (kind, pc) = fault(CoreKind::M4F, UNALIGNED_LDRD, |m| set(m, &[(1, RAM + 2)]));
    assert_eq!(
        (kind, pc),
        (
            FaultKind::Usage(UsageFault::Unaligned { addr: RAM + 2 }),
            CODE
        )
    );
    let (kind, _) = fault(CoreKind::M0Plus, V6M_UNALIGNED, |m| set(m, &[(1, RAM + 1)]));
    assert_eq!(
        kind,
        FaultKind::Usage(UsageFault::Unaligned { addr: RAM + 1 }),
        "ARMv6-M faults"
    );
}

// ---------------------------------------------------------------- multiply / divide / misc

#[test]
fn multiplies() {
    let m = run(MULS, |m| set(m, &[(1, 7), (2, (-3i32) as u32)]));
    assert_eq!(m.cpu.r[0] as i32, -21);
    assert_eq!(m.cpu.r[3] as i32, -42);
    assert_eq!(m.cpu.r[4], 0);
    let m = run(LONG_MUL, |m| {
        set(
            m,
            &[
                (2, 0xffff_ffff),
                (3, 2),
                (6, 2),
                (7, 0),
                (8, 5),
                (9, 0),
                (10, 0xffff_ffff),
                (11, 0xffff_ffff),
            ],
        )
    });
    let r = &m.cpu.r;
    assert_eq!((r[0], r[1]), (0xffff_fffe, 1), "UMULL");
    assert_eq!((r[4], r[5]), (0xffff_fffe, 0xffff_ffff), "SMULL");
    assert_eq!((r[6], r[7]), (0, 2), "UMLAL");
    assert_eq!((r[8], r[9]), (3, 0), "SMLAL");
    assert_eq!((r[10], r[11]), (0xffff_fffc, 3), "UMAAL");
}

#[test]
fn division_rounds_to_zero_and_handles_zero_and_overflow() {
    let m = run(DIV, |m| set(m, &[(1, (-7i32) as u32), (2, 2)]));
    assert_eq!((m.cpu.r[0] as i32, m.cpu.r[3]), (-3, 0x7fff_fffc));
    let m = run(DIV, |m| set(m, &[(0, 9), (3, 9), (1, 5), (2, 0)]));
    assert_eq!(
        (m.cpu.r[0], m.cpu.r[3]),
        (0, 0),
        "x / 0 = 0 without DIV_0_TRP"
    );
    let m = run(DIV, |m| set(m, &[(1, 0x8000_0000), (2, 0xffff_ffff)]));
    assert_eq!(
        (m.cpu.r[0], m.cpu.r[3]),
        (0x8000_0000, 0),
        "INT_MIN / -1 wraps"
    );
    let (kind, pc) = fault(CoreKind::M4F, DIV, |m| {
        assert!(m.bus_write32(0xe000_ed14, 0x210)); // CCR.DIV_0_TRP
        set(m, &[(1, 5), (2, 0)]);
    });
    assert_eq!(
        (kind, pc),
        (FaultKind::Usage(UsageFault::DivideByZero), CODE)
    );
}

#[test]
fn bit_manipulation() {
    let x = 0x0012_3480u32;
    let m = run(BITS, |m| set(m, &[(1, x)]));
    let r = &m.cpu.r;
    assert_eq!(r[0], 11);
    assert_eq!(r[2], 0x012c_4800);
    assert_eq!(r[3], 0x8034_1200);
    assert_eq!(r[4], 0x1200_8034);
    assert_eq!(r[5], 0xffff_8034);
    let m = run(BITFIELD, |m| {
        set(m, &[(0, 0xffff_ffff), (1, 0x1234_5f78), (2, 0xffff_ffff)])
    });
    let r = &m.cpu.r;
    assert_eq!(
        (r[0], r[2], r[3], r[4]),
        (0xffff_f8ff, 0xffff_f00f, 0xf7, 0xffff_fff7)
    );
    let m = run(EXTEND, |m| set(m, &[(1, 0x80ff_7f80), (3, 0x0001_0001)]));
    let r = &m.cpu.r;
    assert_eq!(r[0], 0xffff_ff80, "SXTB16");
    assert_eq!(r[2], 0x0001_0080, "UXTAB ror #8");
    assert_eq!(r[4], 0x7f80, "SXTH");
    assert_eq!(r[5], 0x0080_00ff, "UXTB16 ror #16");
    assert_eq!(r[6], 0x0000_ff81, "SXTAB16");
}

// ---------------------------------------------------------------- DSP extension

#[test]
fn smlad_overflow_sets_q() {
    let m = run(SMLAD_Q, |m| {
        set(m, &[(1, 0x7fff_7fff), (2, 0x7fff_7fff), (3, 0x7fff_ffff)])
    });
    assert_eq!(m.cpu.r[0], 0xfffe_0001);
    assert!(m.cpu.q);
}

#[test]
fn dual_and_long_dual_multiplies() {
    let m = run(DUAL_MUL, |m| {
        set(
            m,
            &[
                (1, 0x0003_0002),
                (2, 0x0005_ffff),
                (5, 10),
                (6, 0),
                (7, 0),
                (8, 0),
            ],
        )
    });
    let r = &m.cpu.r;
    assert_eq!(r[0], 13, "SMUAD");
    assert_eq!(r[3] as i32, -17, "SMUSD");
    assert_eq!(r[4], 7, "SMUADX");
    assert_eq!((r[5], r[6]), (23, 0), "SMLALD");
    assert_eq!((r[7], r[8]), (0xffff_ffef, 0xffff_ffff), "SMLSLD");
    assert!(!m.cpu.q);
}

#[test]
fn most_significant_word_multiplies() {
    let m = run(SMMUL, |m| set(m, &[(1, 0x4000_0000), (2, 3), (5, 10)]));
    let r = &m.cpu.r;
    assert_eq!((r[0], r[3], r[4], r[6]), (0, 1, 10, 9));
}

#[test]
fn halfword_multiplies() {
    let m = run(HALF_MUL, |m| {
        set(
            m,
            &[(1, 0xfffe_0003), (2, 0x0004_fff9), (4, 100), (7, 1), (8, 0)],
        )
    });
    let r = &m.cpu.r;
    assert_eq!(r[0], 14, "SMULTB");
    assert_eq!(r[3], 79, "SMLABB");
    assert_eq!(r[5], 13, "SMULWB");
    assert_eq!(r[6], 92, "SMLAWT");
    assert_eq!((r[7], r[8]), (13, 0), "SMLALBT");
}

#[test]
fn saturation_sets_q() {
    let m = run(SAT, |m| set(m, &[(1, 300), (5, 0xff00_0100)]));
    let r = &m.cpu.r;
    assert_eq!((r[0], r[2], r[3]), (127, 255, 18));
    assert_eq!(r[4], 0xff80_007f, "SSAT16");
    assert_eq!(r[6], 0x0000_000f, "USAT16");
    assert!(m.cpu.q);
    let m = run(QADD, |m| {
        set(
            m,
            &[(1, 0x7000_0000), (2, 0x2000_0000), (4, 0x8000_0000), (6, 0)],
        )
    });
    let r = &m.cpu.r;
    assert_eq!(
        (r[0], r[3], r[5], r[7]),
        (0x7fff_ffff, 0x8000_0000, 0x7fff_ffff, 0x8000_0001)
    );
    assert!(m.cpu.q);
}

#[test]
fn parallel_add_subtract_and_ge_flags() {
    let m = run(PARALLEL, |m| {
        set(
            m,
            &[
                (1, 0x7fff_0001),
                (2, 0x0001_ffff),
                (5, 0xaaaa_aaaa),
                (6, 0x5555_5555),
            ],
        )
    });
    let r = &m.cpu.r;
    assert_eq!(r[0], 0x8000_0000, "SADD16");
    assert_eq!(r[3], 0x7f00_ff00, "UADD8");
    assert_eq!(r[4], 0x55aa_55aa, "SEL with GE from UADD8");
    assert_eq!(r[7], 0x3f00_ff00, "SHADD8");
    assert_eq!(r[8], 0x7ffe_0000, "UQSUB8");
    assert_eq!(r[9], 0x7ffe_0000, "SASX");
    assert_eq!(r[10], 890, "USAD8");
    assert_eq!(r[11], 0x7fff_0000, "QADD16");
    assert_eq!(m.cpu.ge, 0b1111, "GE from SASX; USAD8 and QADD16 leave it");
}

#[test]
fn pack_halfword() {
    let m = run(PKH, |m| set(m, &[(1, 0x1111_2222), (2, 0x3333_4444)]));
    assert_eq!(
        (m.cpu.r[0], m.cpu.r[3], m.cpu.r[4]),
        (0x3344_2222, 0x1111_3344, 0x1111_0000)
    );
}

#[test]
fn mrs_msr_apsr_and_ge() {
    let m = run(MRS_MSR, |m| set(m, &[(0, 0xf800_0000), (2, 0x000a_0000)]));
    assert_eq!(m.cpu.r[1], 0xf800_0000);
    assert_eq!(m.cpu.r[3], 0xf80a_0000);
    assert_eq!((m.cpu.r[4], m.cpu.r[5]), (0, 0));
}

// ---------------------------------------------------------------- FPv4-SP

#[test]
fn fp_requires_cpacr() {
    let (kind, pc) = fault(CoreKind::M4F, VFP_BASIC, |_| {});
    assert_eq!(
        (kind, pc),
        (FaultKind::Usage(UsageFault::NoCoprocessor), CODE)
    );
}

#[test]
fn fp_arithmetic() {
    let m = run(VFP_BASIC, |m| {
        enable_fpu(m);
        set(m, &[(0, f(3.0)), (1, f(4.0))]);
    });
    let r = &m.cpu.r;
    assert_eq!(
        &r[2..9],
        &[f(7.0), f(-1.0), f(12.0), f(0.75), f(2.0), f(-3.0), f(3.0)]
    );
}

#[test]
fn fp_exception_flags() {
    let fpscr = |a: f32, b: f32| {
        let m = run(VFP_FLAGS, |m| {
            enable_fpu(m);
            set(m, &[(0, f(a)), (1, f(b))]);
        });
        (m.cpu.r[2], m.cpu.r[3] & 0x9f)
    };
    assert_eq!(fpscr(1.0, 0.0), (f(f32::INFINITY), 0b10), "DZC");
    assert_eq!(fpscr(1.0, 3.0), (f(1.0 / 3.0), 0b1_0000), "IXC");
    assert_eq!(fpscr(0.0, 0.0), (0x7fc0_0000, 0b1), "IOC, default NaN");
    assert_eq!(
        fpscr(f32::from_bits(0x0080_0000), 3.0),
        (f(f32::from_bits(0x0080_0000) / 3.0), 0b1_1000),
        "UFC+IXC"
    );
    assert_eq!(
        fpscr(f32::MAX, 0.5),
        (f(f32::INFINITY), 0b1_0100),
        "OFC+IXC"
    );
}

#[test]
fn fused_multiply_add_rounds_once() {
    let a = f32::from_bits(0x3f80_0800); // 1 + 2^-12
    let m = run(VFP_MAC, |m| {
        enable_fpu(m);
        set(m, &[(0, f(a)), (1, f(a)), (2, f(-1.0))]);
    });
    assert_eq!(m.cpu.r[3], 0x3a00_0400, "VFMA: 2^-11 + 2^-24");
    assert_eq!(
        m.cpu.r[4], 0x3a00_0000,
        "VMLA: product rounded to even first"
    );
}

#[test]
fn fp_compare_and_transfer_to_apsr() {
    let m = run(VFP_CMP, |m| {
        enable_fpu(m);
        set(m, &[(0, f(1.0)), (1, f(2.0))]);
    });
    assert_eq!(m.cpu.r[2], 1, "1.0 < 2.0");
    assert_eq!(m.cpu.r[3] >> 28, 0b0010, "1.0 > 0.0");
    let m = run(VFP_CMP, |m| {
        enable_fpu(m);
        set(m, &[(0, 0x7fc0_0000), (1, f(2.0))]);
    });
    assert_eq!(m.cpu.r[3] >> 28, 0b0011, "unordered");
    assert_eq!(m.cpu.r[3] & 1, 1, "VCMPE signals on a quiet NaN");
}

#[test]
fn fp_to_integer_conversions() {
    let cvt = |x: f32| {
        let m = run(VFP_CVT, |m| {
            enable_fpu(m);
            set(m, &[(0, f(x))]);
        });
        (m.cpu.r[1], m.cpu.r[2], m.cpu.r[3], m.cpu.r[4] & 0x9f)
    };
    assert_eq!(
        cvt(2.5),
        (2, 2, 2, 0x10),
        "truncate; VCVTR ties to even; inexact"
    );
    assert_eq!(
        cvt(-1.5),
        ((-1i32) as u32, (-2i32) as u32, 0, 0x11),
        "negative to unsigned saturates (IOC)"
    );
    assert_eq!(
        cvt(3.0e9),
        (0x7fff_ffff, 0x7fff_ffff, 3_000_000_000, 0x01),
        "signed saturates"
    );
}

#[test]
fn fixed_point_and_half_precision() {
    let m = run(VFP_CVT_FIXED_HALF, |m| {
        enable_fpu(m);
        set(m, &[(0, f(1.5)), (5, 0xffff_ffff)]);
    });
    let r = &m.cpu.r;
    assert_eq!(r[1], 0x180, "1.5 in Q8");
    assert_eq!(r[2], 0x3e00_3e00, "VCVTB and VCVTT");
    assert_eq!(r[3], f(1.5), "half back to single");
    assert_eq!(r[4], f(4_294_967_296.0), "u32::MAX rounds up to 2^32");
}

#[test]
fn rounding_modes_flush_to_zero_and_default_nan() {
    let div = |fpscr: u32, a: u32, b: f32| {
        let m = run(VFP_MODE, |m| {
            enable_fpu(m);
            set(m, &[(0, fpscr), (1, a), (2, f(b))]);
        });
        (m.cpu.r[3], m.cpu.r[4] & 0x9f)
    };
    const RP: u32 = 1 << 22;
    const RM: u32 = 2 << 22;
    const RZ: u32 = 3 << 22;
    assert_eq!(div(0, f(2.0), 3.0).0, 0x3f2a_aaab);
    assert_eq!(div(RZ, f(2.0), 3.0).0, 0x3f2a_aaaa);
    assert_eq!(div(RM, f(-2.0), 3.0).0, 0xbf2a_aaab);
    assert_eq!(div(RP, f(-2.0), 3.0).0, 0xbf2a_aaaa);
    assert_eq!(div(RP, f(2.0), 3.0).0, 0x3f2a_aaab);
    assert_eq!(
        div(1 << 24, 1, 1.0),
        (0, 0x80),
        "FZ flushes a denormal input (IDC)"
    );
    assert_eq!(
        div(1 << 25, 0x7f80_0001, 1.0),
        (0x7fc0_0000, 0x01),
        "DN: default NaN"
    );
    assert_eq!(
        div(0, 0x7f80_0001, 1.0),
        (0x7fc0_0001, 0x01),
        "SNaN is quietened"
    );
    assert_eq!(
        div(RZ, f(f32::MAX), 0.5),
        (0x7f7f_ffff, 0x14),
        "RZ overflow gives the largest finite"
    );
}

#[test]
fn fp_load_store_and_moves() {
    let m = run(VFP_LDST, |m| {
        enable_fpu(m);
        assert!(m.write_memory(
            RAM + 0x400,
            &[
                f(1.0).to_le_bytes(),
                0x11u32.to_le_bytes(),
                0x22u32.to_le_bytes()
            ]
            .concat()
        ));
        set(m, &[(0, RAM + 0x400)]);
    });
    assert_eq!(&m.fpu.s[4..8], &[f(1.0), 0, 0x11, 0x22]);
    assert_eq!(m.read_u32(RAM + 0x410), Some(0x11));
    assert_eq!(m.cpu.r[0], RAM + 0x410, "VSTMIA write-back");
    assert_eq!((m.cpu.r[1], m.cpu.r[2], m.cpu.r[3]), (0x11, 0x22, f(1.5)));
    assert_eq!(m.cpu.r[13], STACK_TOP);
}

// ---------------------------------------------------------------- system level

#[test]
fn svc_enters_the_handler_and_returns() {
    let m = run(SVC, |m| set(m, &[(1, 0), (5, 0)]));
    assert_eq!(m.cpu.r[5], 10, "the handler ran");
    assert_eq!(m.cpu.r[1], 1, "execution resumed after the SVC");
    assert_eq!(m.cpu.r[13], STACK_TOP);
}

#[test]
fn lazy_fp_stacking_preserves_the_interrupted_context() {
    // Thread code: vmov s0, r0; svc; the handler clobbers s0 (vmov s0, r1; vmov r4, s0).
    let code: &[u16] = &[0xee00, 0x0a10, 0xdf00, 0xee10, 0x2a10]; // vmov s0,r0; svc 0; vmov r2,s0
    let handler: &[u16] = &[0xee00, 0x1a10, 0xee10, 0x4a10, 0x4770];
    let mut m = boot_with(CoreKind::M4F, code, handler, |m| {
        enable_fpu(m);
        set(m, &[(0, 0x1111_1111), (1, 0x2222_2222)]);
    });
    assert!(matches!(m.run(1000), StopReason::Breakpoint { .. }));
    assert_eq!(m.cpu.r[4], 0x2222_2222, "handler saw its own value");
    assert_eq!(
        m.cpu.r[2], 0x1111_1111,
        "thread's s0 restored from the lazily saved frame"
    );
    assert_eq!(m.cpu.r[13], STACK_TOP);
}

#[test]
fn systick_interrupts_wake_a_self_loop() {
    let mut m = boot_with(CoreKind::M4F, SELF_LOOP, DEFAULT_SVC, |m| {
        assert!(m.bus_write32(0xe000_e014, 99)); // LOAD: 100 cycles
        assert!(m.bus_write32(0xe000_e018, 0));
        assert!(m.bus_write32(0xe000_e010, 7)); // ENABLE | TICKINT | CLKSOURCE
    });
    assert_eq!(m.run(10_000), StopReason::BudgetExhausted);
    assert!(m.cpu.r[6] > 10, "SysTick handler ran {} times", m.cpu.r[6]);
}

#[test]
fn hangs_are_reported_not_waited_out() {
    let mut m = boot_with(CoreKind::M4F, SELF_LOOP, DEFAULT_SVC, |_| {});
    assert_eq!(
        m.run(u64::MAX),
        StopReason::Hang {
            pc: CODE + 2,
            kind: HangKind::SelfLoop
        }
    );
    let mut m = boot_with(CoreKind::M0Plus, WFI, DEFAULT_SVC, |_| {});
    assert_eq!(
        m.run(u64::MAX),
        StopReason::Hang {
            pc: CODE,
            kind: HangKind::Sleep
        }
    );
}

#[test]
fn bus_faults_report_address_and_pc() {
    let (kind, pc) = fault(CoreKind::M4F, BUS_FAULT_LOAD, |m| {
        set(m, &[(1, 0x4000_0000)])
    });
    assert_eq!(
        (kind, pc),
        (
            FaultKind::Bus {
                addr: 0x4000_0000,
                write: false
            },
            CODE
        )
    );
    let (kind, _) = fault(CoreKind::M4F, BUS_FAULT_FLASH_WRITE, |m| {
        set(m, &[(1, 0x200)])
    });
    assert_eq!(
        kind,
        FaultKind::Bus {
            addr: 0x200,
            write: true
        }
    );
    let mut m = boot_with(CoreKind::M4F, BUS_FAULT_LOAD, DEFAULT_SVC, |m| {
        set(m, &[(1, 0x4000_0000)])
    });
    let StopReason::Fault(report) = m.run(10) else {
        panic!("expected a fault")
    };
    let text = report.to_string();
    assert!(
        text.starts_with("bus fault: read from 0x40000000"),
        "{text}"
    );
    assert!(
        text.contains("pc 0x00000100") && text.contains("r1=0x40000000"),
        "{text}"
    );
}

#[test]
fn undefined_instructions_are_usage_faults() {
    let (kind, _) = fault(CoreKind::M4F, UDF, |_| {});
    assert_eq!(
        kind,
        FaultKind::Usage(UsageFault::Undefined { encoding: 0xde03 })
    );
}

#[test]
fn armv6m_runs_its_subset_and_rejects_the_rest() {
    let m = run_on(CoreKind::M0Plus, V6M_ADDS, |m| {
        set(m, &[(1, 2), (2, 3), (3, 4)])
    });
    assert_eq!((m.cpu.r[0], m.cpu.r[3]), (5, 20));
    for code in [V7_SDIV, V7_CBZ, V7_VADD] {
        let (kind, pc) = fault(CoreKind::M0Plus, code, |_| {});
        assert!(
            matches!(kind, FaultKind::Usage(UsageFault::Undefined { .. })),
            "{code:04x?}: {kind:?}"
        );
        assert_eq!(pc, CODE);
    }
}

#[test]
fn runs_are_deterministic() {
    let go = || {
        let mut m = boot_with(CoreKind::M4F, SELF_LOOP, DEFAULT_SVC, |m| {
            assert!(m.bus_write32(0xe000_e014, 37));
            assert!(m.bus_write32(0xe000_e010, 7));
        });
        m.run(5_000);
        (m.instructions(), m.cycles(), m.cpu.r[6])
    };
    assert_eq!(go(), go());
}

#[test]
fn fp_context_without_lazy_stacking() {
    let code: &[u16] = &[0xee00, 0x0a10, 0xdf00, 0xee10, 0x2a10]; // vmov s0,r0; svc 0; vmov r2,s0
    let handler: &[u16] = &[0xee00, 0x1a10, 0xee10, 0x4a10, 0x4770];
    let mut m = boot_with(CoreKind::M4F, code, handler, |m| {
        enable_fpu(m);
        assert!(m.bus_write32(0xe000_ef34, 0x8000_0000)); // FPCCR: ASPEN, no LSPEN
        set(m, &[(0, 0x1111_1111), (1, 0x2222_2222)]);
    });
    assert!(matches!(m.run(1000), StopReason::Breakpoint { .. }));
    assert_eq!((m.cpu.r[2], m.cpu.r[4]), (0x1111_1111, 0x2222_2222));
    // The 0x68-byte FP frame was written: S0 sits right after the 8 basic words.
    assert_eq!(m.read_u32(STACK_TOP - 0x68 + 0x20), Some(0x1111_1111));
}

#[test]
fn wfi_sleeps_until_systick() {
    let mut m = boot_with(CoreKind::M0Plus, WFI, DEFAULT_SVC, |m| {
        assert!(m.bus_write32(0xe000_e014, 999));
        assert!(m.bus_write32(0xe000_e010, 7));
    });
    assert_eq!(
        m.run(1000),
        StopReason::Breakpoint {
            pc: end_of(WFI),
            imm: 0
        }
    );
    assert_eq!(m.cpu.r[6], 1, "the SysTick handler ran once");
    assert!(
        m.cycles() >= 1000,
        "the sleep was skipped over, not executed: {} cycles",
        m.cycles()
    );
}

#[test]
fn dwt_cycle_counter_and_systick_registers() {
    let mut m = boot_with(CoreKind::M4F, NOPS, DEFAULT_SVC, |m| {
        assert!(m.bus_write32(0xe000_edfc, 1 << 24)); // DEMCR.TRCENA
        assert!(m.bus_write32(0xe000_1004, 0));
        assert!(m.bus_write32(0xe000_1000, 1)); // CYCCNTENA
        assert!(m.bus_write32(0xe000_e014, 0x00ff_ffff));
        assert!(m.bus_write32(0xe000_e018, 0));
        assert!(m.bus_write32(0xe000_e010, 5)); // ENABLE | CLKSOURCE, no interrupt
    });
    let before = m.bus_read32(0xe000_1004).expect("CYCCNT");
    m.run(10);
    let after = m.bus_read32(0xe000_1004).expect("CYCCNT");
    assert_eq!(
        after - before,
        10,
        "one cycle per instruction without a timing model"
    );
    // SysTick reloaded from 0 on the first tick, then counted down 9 more.
    assert_eq!(m.bus_read32(0xe000_e018), Some(0x00ff_ffff - 9));
    assert_eq!(
        m.bus_read32(0xe000_e010).map(|v| v >> 16 & 1),
        Some(0),
        "no wrap yet"
    );
    // The M0+ has no CYCCNT (DWT_CTRL.NOCYCCNT).
    let mut m0 = boot_with(CoreKind::M0Plus, NOPS, DEFAULT_SVC, |_| {});
    assert_eq!(m0.bus_read32(0xe000_1000).map(|v| v >> 25 & 1), Some(1));
}

#[test]
fn semihosting_calls() {
    let exit = |op: u32, param: u32, setup: &dyn Fn(&mut Machine)| {
        let mut m = boot_with(CoreKind::M0Plus, SEMIHOST, DEFAULT_SVC, |m| {
            setup(m);
            set(m, &[(0, op), (1, param)]);
        });
        let stop = m.run(100);
        (
            stop,
            String::from_utf8_lossy(m.semihosting_stdout()).into_owned(),
        )
    };
    assert_eq!(
        exit(0x18, 0x20026, &|_| {}).0,
        StopReason::Exit { code: 0 },
        "SYS_EXIT, application exit"
    );
    assert_eq!(
        exit(0x18, 0x20023, &|_| {}).0,
        StopReason::Exit { code: 1 },
        "SYS_EXIT, run-time error"
    );
    let block = |m: &mut Machine| {
        assert!(m.write_memory(RAM, &[0x26, 0x00, 0x02, 0x00, 7, 0, 0, 0]));
    };
    assert_eq!(
        exit(0x20, RAM, &block).0,
        StopReason::Exit { code: 7 },
        "SYS_EXIT_EXTENDED"
    );
    let chr = |m: &mut Machine| assert!(m.write_memory(RAM, b"Z"));
    let (stop, out) = exit(0x03, RAM, &chr);
    assert_eq!(
        (stop, out.as_str()),
        (
            StopReason::Breakpoint {
                pc: end_of(SEMIHOST),
                imm: 0
            },
            "Z"
        ),
        "SYS_WRITEC"
    );
    let text = |m: &mut Machine| assert!(m.write_memory(RAM, b"line\n\0"));
    assert_eq!(exit(0x04, RAM, &text).1, "line\n", "SYS_WRITE0");
}

#[test]
fn pendsv_on_the_process_stack() {
    let psp = RAM + 0x1000;
    let m = run(PENDSV_PSP, |m| {
        set(m, &[(0, psp), (3, 1 << 28), (4, 0xe000_ed04)])
    });
    assert_eq!(m.cpu.r[2], 2, "CONTROL.SPSEL read back");
    assert_eq!(m.cpu.r[6], 1, "PendSV ran");
    assert_eq!(m.cpu.r[5], psp, "the frame was popped from the PSP");
    assert_eq!(
        m.read_u32(psp - 32 + 24),
        Some(CODE + 0x14),
        "stacked return address"
    );
    assert_eq!(m.cpu.r[13], STACK_TOP, "back on the MSP");
}

/// A timer peripheral: a counter register at 0x4000_0000 and IRQ 0 at a fixed cycle.
struct TestTimer {
    alarm: u64,
    fired: bool,
}

impl emulator::Peripherals for TestTimer {
    fn read(&mut self, addr: u32, _size: u8, cycles: u64) -> Option<u32> {
        (addr == 0x4000_0000).then_some(0xabcd_0000 | (cycles as u32 & 0xffff))
    }
    fn write(&mut self, _addr: u32, _size: u8, _value: u32, _cycles: u64) -> bool {
        false
    }
    fn take_irqs(&mut self, cycles: u64, pend: &mut dyn FnMut(u32)) {
        if !self.fired && cycles >= self.alarm {
            self.fired = true;
            pend(0);
        }
    }
    fn next_event(&self, _cycles: u64) -> Option<u64> {
        (!self.fired).then_some(self.alarm)
    }
}

#[test]
fn peripheral_registers_and_interrupts() {
    let mut m = boot_with(CoreKind::M0Plus, WFI, DEFAULT_SVC, |m| {
        m.set_peripherals(Box::new(TestTimer {
            alarm: 5_000,
            fired: false,
        }));
        assert!(m.bus_write32(0xe000_e100, 1)); // NVIC_ISER0: enable IRQ 0
    });
    assert_eq!(
        m.run(1000),
        StopReason::Breakpoint {
            pc: end_of(WFI),
            imm: 0
        }
    );
    assert_eq!(m.cpu.r[6], 1, "IRQ 0 woke the core and its handler ran");
    assert!(m.cycles() >= 5_000);
    let m = run(BUS_FAULT_LOAD, |m| {
        m.set_peripherals(Box::new(TestTimer {
            alarm: u64::MAX,
            fired: true,
        }));
        set(m, &[(1, 0x4000_0000)]);
    });
    assert_eq!(m.cpu.r[0] >> 16, 0xabcd, "the peripheral answered the read");
}

#[test]
fn itm_port_0_output_is_captured() {
    let mut m = boot_with(CoreKind::M4F, NOPS, DEFAULT_SVC, |_| {});
    assert_eq!(
        m.bus_read32(0xe000_0000),
        Some(1),
        "stimulus port reads as ready"
    );
    assert!(m.bus_write32(0xe000_0000, u32::from_le_bytes(*b"ok!\n")));
    assert_eq!(m.take_itm_output(), b"ok!\n");
}

#[test]
fn primask_and_basepri_hold_off_interrupts() {
    // SysTick every 20 cycles: it wraps once inside the 20-NOP masked window.
    let systick_every_20 = |m: &mut Machine| {
        assert!(m.bus_write32(0xe000_e014, 19));
        assert!(m.bus_write32(0xe000_e010, 7));
    };
    let m = run(PRIMASK, systick_every_20);
    assert_eq!(m.cpu.r[0], 1, "PRIMASK read back");
    assert_eq!(
        (m.cpu.r[2], m.cpu.r[6]),
        (0, 1),
        "held off by PRIMASK, taken after CPSIE"
    );
    // BASEPRI 0x80 masks SysTick at priority 0x80 but not at 0x40.
    let run_with_priority = |prio: u32| {
        let m = run(BASEPRI, move |m| {
            systick_every_20(m);
            assert!(m.bus_write32(0xe000_ed20, prio << 24)); // SHPR3: SysTick priority
            set(m, &[(1, 0x80)]);
        });
        (m.cpu.r[2], m.cpu.r[6])
    };
    assert_eq!(
        run_with_priority(0x80),
        (0, 1),
        "masked by BASEPRI until it is cleared"
    );
    assert_eq!(
        run_with_priority(0x40),
        (1, 1),
        "a higher priority preempts BASEPRI"
    );
}

#[test]
fn priority_registers_read_back() {
    let mut m = boot_with(CoreKind::M4F, NOPS, DEFAULT_SVC, |_| {});
    assert!(m.bus_write32(0xe000_ed20, 0x8040_0000)); // SHPR3: SysTick 0x80, PendSV 0x40
    assert!(m.bus_write32(0xe000_e400, 0x1234_56ff)); // NVIC_IPR0: IRQ 0..3
    assert_eq!(m.bus_read32(0xe000_ed20), Some(0x8040_0000));
    // Three priority bits on this M4F: the low five bits of each byte read as zero.
    assert_eq!(m.bus_read32(0xe000_e400), Some(0x0020_40e0));
}

/// Boot `code` with `fault_exceptions` on: HardFault (vector 3) runs `bkpt #3`, UsageFault
/// (vector 6) runs `bkpt #6`.
fn boot_with_fault_handlers(
    core: CoreKind,
    code: &[u16],
    setup: impl FnOnce(&mut Machine),
) -> Machine {
    let map = MemoryMap::new(vec![
        Region::new("FLASH", 0, 64 << 10, RegionKind::Flash),
        Region::new("RAM", RAM, 64 << 10, RegionKind::Ram),
    ]);
    let mut config = MachineConfig::new(core, map);
    config.fault_exceptions = true;
    let mut m = Machine::new(config).expect("valid map");
    let mut vectors = vec![0u8; 32];
    vectors[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    vectors[4..8].copy_from_slice(&(CODE | 1).to_le_bytes());
    vectors[12..16].copy_from_slice(&0x301u32.to_le_bytes());
    vectors[24..28].copy_from_slice(&0x311u32.to_le_bytes());
    assert!(m.write_memory(0, &vectors));
    put_code(&mut m, CODE, code);
    put_code(&mut m, 0x300, &[0xbe03]);
    put_code(&mut m, 0x310, &[0xbe06]);
    m.reset().expect("reset");
    setup(&mut m);
    m
}

#[test]
fn fault_exceptions_run_the_firmware_handlers() {
    // Escalated to HardFault (UsageFault not enabled in SHCSR), the frame holds the faulting PC.
    let mut m = boot_with_fault_handlers(CoreKind::M4F, UDF, |_| {});
    assert_eq!(m.run(100), StopReason::Breakpoint { pc: 0x300, imm: 3 });
    assert_eq!(
        m.read_u32(STACK_TOP - 8),
        Some(CODE),
        "stacked return address"
    );
    assert_eq!(
        m.bus_read32(0xe000_ed28).map(|v| v >> 16 & 1),
        Some(1),
        "CFSR.UNDEFINSTR"
    );
    assert_eq!(
        m.bus_read32(0xe000_ed2c).map(|v| v >> 30),
        Some(1),
        "HFSR.FORCED"
    );
    // With SHCSR.USGFAULTENA the UsageFault handler runs.
    let mut m = boot_with_fault_handlers(CoreKind::M4F, UDF, |m| {
        assert!(m.bus_write32(0xe000_ed24, 1 << 18))
    });
    assert_eq!(m.run(100), StopReason::Breakpoint { pc: 0x310, imm: 6 });
    // A bus fault on the M0+ is a HardFault.
    let mut m = boot_with_fault_handlers(CoreKind::M0Plus, BUS_FAULT_LOAD, |m| {
        set(m, &[(1, 0x4000_0000)])
    });
    assert_eq!(m.run(100), StopReason::Breakpoint { pc: 0x300, imm: 3 });
    // A fault inside HardFault is a lockup: the run stops with the report.
    let mut m = boot_with_fault_handlers(CoreKind::M4F, UDF, |_| {});
    put_code(&mut m, 0x300, &[0xde07]); // udf #7 in the HardFault handler
    match m.run(100) {
        StopReason::Fault(report) => assert_eq!(report.pc, 0x300),
        other => panic!("expected lockup, got {other:?}"),
    }
}
