//! Microbenchmarks of the cycle model: each instruction sequence with the cycle count the Arm
//! technical reference manual gives for it, on zero-wait-state memory, and the memory side (flash
//! wait states, prefetch, caches) on the chips' data. A table edit that breaks one fails here.
//!
//! Sources: "M4 TRM" = Cortex-M4 Technical Reference Manual r0p1 (DDI 0439B), Table 3-1 (and
//! §3.3.2 for load/store pipelining), Table 7-1 for the FPU; "M0+ TRM" = Cortex-M0+ Technical
//! Reference Manual r0p1 (DDI 0484C), Table 3-1. P = 2 (M4 pipeline refill, see
//! `timing::cortex_m4`), 1 on the M0+.
//!
//! The instruction words come from tests/common/cycle_snippets.rs (assembled by llvm-mc, see
//! tests/fixtures/src/gen_cycle_snippets.py).

#[path = "common/cycle_snippets.rs"]
mod cycle_snippets;
use cycle_snippets::*;

use emulator::chips::{Chip, ChipPeripherals};
use emulator::timing::{cortex_m0plus, cortex_m4, CoreTable};
use emulator::{
    CoreKind, CycleModel, Machine, MachineConfig, MemoryMap, Region, RegionKind, StopReason,
};

const RAM: u32 = 0x2000_0000;
const STACK_TOP: u32 = 0x2000_8000;
const DATA: u32 = 0x2000_4000;

fn table(core: CoreKind) -> &'static CoreTable {
    match core {
        CoreKind::M4F => &cortex_m4::TABLE,
        CoreKind::M0Plus => &cortex_m0plus::TABLE,
    }
}

/// A machine whose flash holds the vector table at `flash` and `code` at `code_at` (+ BKPT),
/// with the given cycle model and optional chip peripherals; `setup` runs after reset.
fn machine_with(
    core: CoreKind,
    flash: u32,
    code_at: u32,
    code: &[u16],
    model: CycleModel,
    chip: Option<Chip>,
    setup: impl FnOnce(&mut Machine<CycleModel>),
) -> Machine<CycleModel> {
    let map = MemoryMap::new(vec![
        Region::new("FLASH", flash, 256 << 10, RegionKind::Flash),
        Region::new("RAM", RAM, 64 << 10, RegionKind::Ram),
    ]);
    let mut m = Machine::with_timing(MachineConfig::new(core, map), model).expect("valid map");
    if let Some(chip) = chip {
        m.set_peripherals(Box::new(ChipPeripherals::new(chip, 100_000_000)));
    }
    let mut vectors = vec![0u8; 64];
    vectors[0..4].copy_from_slice(&STACK_TOP.to_le_bytes());
    vectors[4..8].copy_from_slice(&(code_at | 1).to_le_bytes());
    // SVCall (11): a handler that returns at once.
    let handler = code_at + 0x800;
    vectors[44..48].copy_from_slice(&(handler | 1).to_le_bytes());
    assert!(m.write_memory(flash, &vectors));
    let mut program = code.to_vec();
    program.push(0xbe00); // bkpt #0: stops the run, not counted
    let bytes: Vec<u8> = program.iter().flat_map(|h| h.to_le_bytes()).collect();
    assert!(m.write_memory(code_at, &bytes));
    assert!(m.write_memory(handler, &0x4770u16.to_le_bytes())); // bx lr
    m.reset().expect("reset");
    m.cpu.r[1] = DATA;
    setup(&mut m);
    m
}

/// Cycles of `code` run from SRAM on zero-wait-state memory.
fn cycles_with(core: CoreKind, code: &[u16], setup: impl FnOnce(&mut Machine<CycleModel>)) -> u64 {
    let model = CycleModel::zero_wait(table(core));
    let mut m = machine_with(core, 0, RAM, code, model, None, |m| {
        // FPU on (CPACR CP10/CP11 full access) for the FP snippets.
        if core == CoreKind::M4F {
            assert!(m.bus_write32(0xE000_ED88, 0xF << 20));
        }
        setup(m)
    });
    let stop = m.run(100_000);
    assert!(
        matches!(stop, StopReason::Breakpoint { .. }),
        "stopped with {stop:?}"
    );
    m.cycles()
}

fn cycles(core: CoreKind, code: &[u16]) -> u64 {
    cycles_with(core, code, |_| {})
}

#[test]
fn cortex_m4_integer() {
    use CoreKind::M4F;
    // M4 TRM Table 3-1: ADD, SUB, LSL, EOR (shifted register) 1 each.
    assert_eq!(cycles(M4F, M4_ALU), 4);
    // LDR 2, then ADD 1.
    assert_eq!(cycles(M4F, M4_LDR_USE), 3);
    // §3.3.2: "LDR R0,[R1]; LDR R1,[R2]" pipelines: 2 + 1.
    assert_eq!(cycles(M4F, M4_LDR_LDR), 3);
    // ... unless the second load's address is the first one's result: 2 + 2.
    assert_eq!(cycles_with(M4F, M4_LDR_LDR_DEP, |m| m.cpu.r[1] = DATA), 4);
    // §3.3.2: "STR Rx,[Ry,#imm] is always one cycle".
    assert_eq!(cycles(M4F, M4_STR_IMM), 2);
    // Table 3-1: STR (register offset) 2.
    assert_eq!(cycles(M4F, M4_STR_REG), 2);
    // Table 3-1: LDM 1 + N.
    assert_eq!(cycles(M4F, M4_LDM4), 5);
    // PUSH 1 + N (5 registers) + POP 1 + N (4) + POP 1 + N (1).
    assert_eq!(cycles(M4F, M4_PUSH_POP), 6 + 5 + 2);
    // B 1 + P with P = 1 ("taken branches with an immediate are normally 1 cycle of pipeline
    // reload"), NOP 1 (the skipped NOP is not executed).
    assert_eq!(cycles(M4F, M4_B), 2 + 1);
    // CMP 1, B<cond> not taken 1, NOP 1.
    assert_eq!(cycles(M4F, M4_BNE_NOT_TAKEN), 3);
    // BL 1 + P (immediate: P = 1), BX 1 + P (register: "normally 2 cycles of pipeline
    // reload"), B 1 + P (P = 1), NOP 1.
    assert_eq!(cycles(M4F, M4_BL_BX), 2 + 3 + 2 + 1);
    // TBB 2 + P, NOP 1.
    assert_eq!(cycles(M4F, M4_TBB), 4 + 1);
    // CMP 1, IT 1 (folding not modelled), a skipped conditional instruction 1.
    assert_eq!(cycles(M4F, M4_IT_SKIPPED), 3);
    // A loop of 100: MOVS 1, then per iteration ADDS 1, SUBS 1, BNE 1 + P (taken 99 times,
    // P = 1 for an immediate target).
    assert_eq!(cycles(M4F, M4_LOOP), 1 + 100 * 3 + 99);
}

#[test]
fn cortex_m4_multiply_divide_dsp() {
    use CoreKind::M4F;
    // M4 TRM Table 3-1: MUL 1, MLA 1, MLS 1.
    assert_eq!(cycles(M4F, M4_MUL), 3);
    // UMULL, SMLAL, UMLAL 1 each.
    assert_eq!(cycles(M4F, M4_LONG_MUL), 3);
    // SMLAD, SMLABB, SMLALD, QADD16, SXTB16: 1 each.
    assert_eq!(cycles(M4F, M4_DSP), 5);
    // UDIV 2-12 with early termination: 2 when the divisor exceeds the dividend, 12 for a full
    // 32-bit quotient.
    let udiv = |n: u32, d: u32| {
        cycles_with(M4F, M4_UDIV, |m| {
            m.cpu.r[1] = n;
            m.cpu.r[2] = d;
        })
    };
    assert_eq!(udiv(5, 7), 2);
    assert_eq!(udiv(u32::MAX, 1), 12);
    let mid = udiv(1 << 16, 3);
    assert!((3..12).contains(&mid), "{mid}");
}

#[test]
fn cortex_m4_fpu() {
    use CoreKind::M4F;
    // M4 TRM Table 7-1: VADD, VMUL, VSUB, VCVT 1 each.
    assert_eq!(cycles(M4F, M4_FP_ARITH), 4);
    // VFMA 3, VMLA 3.
    assert_eq!(cycles(M4F, M4_FP_MAC), 6);
    // VDIV 14, VSQRT 14.
    assert_eq!(cycles(M4F, M4_FP_DIV_SQRT), 28);
    // VLDR 2, VSTR 2, VLDM 1 + N (4).
    assert_eq!(cycles(M4F, M4_FP_LDST), 2 + 2 + 5);
    // VMOV core <-> S 1 each, VMOV two registers 2.
    assert_eq!(cycles(M4F, M4_FP_MOV), 1 + 1 + 2);
}

#[test]
fn cortex_m4_exception_entry_and_return() {
    // SVC 1, entry 12 (M4 TRM §3.3.1 / DUI 0553A §2.3.7 latency), the handler's BX LR 1, the
    // return 10 (its refill included), then NOP 1.
    assert_eq!(cycles(CoreKind::M4F, M4_SVC), 1 + 12 + 1 + 10 + 1);
}

#[test]
fn cortex_m0plus() {
    use CoreKind::M0Plus;
    // M0+ TRM Table 3-1: ADDS, SUBS, LSLS, EORS 1 each.
    assert_eq!(cycles(M0Plus, M0P_ALU), 4);
    // LDR 2 each: no pipelining on the M0+.
    assert_eq!(cycles(M0Plus, M0P_LDR_LDR), 4);
    // STR 2.
    assert_eq!(cycles(M0Plus, M0P_STR), 2);
    // BL 3, PUSH 1 + N (3), POP with PC 3 + N (3), B 2, NOP 1.
    assert_eq!(cycles(M0Plus, M0P_PUSH_POP_PC), 3 + 4 + 6 + 2 + 1);
    // B 2 (taken), NOP 1.
    assert_eq!(cycles(M0Plus, M0P_B), 3);
    // CMP 1, B<cond> not taken 1, NOP 1.
    assert_eq!(cycles(M0Plus, M0P_BNE_NOT_TAKEN), 3);
    // MULS 1 with the fast multiplier.
    assert_eq!(cycles(M0Plus, M0P_MULS), 1);
    // MRS 3, DMB 3.
    assert_eq!(cycles(M0Plus, M0P_MRS_DMB), 6);
    // A loop of 100: MOVS 1, ADDS 1, SUBS 1, BNE 2 taken / 1 not.
    assert_eq!(cycles(M0Plus, M0P_LOOP), 1 + 100 * 3 + 99);
}

#[test]
fn rp2040_io_port_is_single_cycle() {
    // M0+ TRM §3.3 / RP2040 datasheet §2.3.1: the SIO sits on the single-cycle I/O port.
    let model = CycleModel::new(
        &cortex_m0plus::TABLE,
        emulator::chips::Chip::RP2040.memory_timing(),
    );
    let mut m = machine_with(
        CoreKind::M0Plus,
        0x1000_0000,
        RAM,
        M0P_IOPORT,
        model,
        Some(Chip::RP2040),
        |m| m.cpu.r[1] = 0xD000_0000,
    );
    assert!(matches!(m.run(100), StopReason::Breakpoint { .. }));
    assert_eq!(m.cycles(), 2);
}

/// `M4_LOOP` (100 iterations) in an STM32L4R5's flash with FLASH_ACR = `acr`, not yet run.
fn stm32_loop_machine(acr: u32) -> Machine<CycleModel> {
    let model = CycleModel::new(
        &cortex_m4::TABLE,
        emulator::chips::Chip::STM32L4R5.memory_timing(),
    );
    machine_with(
        CoreKind::M4F,
        0x0800_0000,
        0x0800_0400,
        M4_LOOP,
        model,
        Some(Chip::STM32L4R5),
        |m| assert!(m.bus_write32(0x4002_2000, acr)),
    )
}

/// Cycles of [`stm32_loop_machine`] run to its BKPT.
fn stm32_loop(acr: u32) -> (u64, Machine<CycleModel>) {
    let mut m = stm32_loop_machine(acr);
    assert!(matches!(m.run(10_000), StopReason::Breakpoint { .. }));
    (m.cycles(), m)
}

#[test]
fn stm32_flash_wait_states_and_art_accelerator() {
    let zero_wait = 1 + 100 * 3 + 99;
    // LATENCY 0: no wait states whatever the ART does.
    assert_eq!(stm32_loop(0x000).0, zero_wait);
    // LATENCY 5 with the instruction cache on: only the cold miss of the loop's flash word
    // costs the 5 wait states; the fetch after each taken branch hits. The BKPT that stops the
    // run is in the next flash word: fetched (a miss, 5) but not executed.
    let (cached, m) = stm32_loop(0x605);
    assert_eq!(cached, zero_wait + 5 + 5);
    let icache = m.timing.memory.icache.stats();
    assert_eq!((icache.hits, icache.misses), (99, 2), "{icache:?}");
    // LATENCY 5, no cache, no prefetch: every fetch from flash (here, after each taken branch,
    // and the BKPT's) costs the 5 wait states (RM0432 §3.3.3).
    let (uncached, _) = stm32_loop(0x005);
    assert_eq!(uncached, zero_wait + 100 * 5 + 5);
    // The prefetch buffer reads ahead sequentially: no help for a loop's backward branch, but
    // the BKPT's word, read ahead after the last BNE's fetch, waits 2 cycles instead of 5.
    let (prefetch, _) = stm32_loop(0x105);
    assert_eq!(prefetch, uncached - 3);
}

#[test]
fn rp2040_xip_cache_misses_cost_a_qspi_transfer() {
    let model = CycleModel::new(
        &cortex_m0plus::TABLE,
        emulator::chips::Chip::RP2040.memory_timing(),
    );
    let mut m = machine_with(
        CoreKind::M0Plus,
        0x1000_0000,
        0x1000_0100,
        M0P_LOOP,
        model,
        Some(Chip::RP2040),
        |_| {},
    );
    assert!(matches!(m.run(10_000), StopReason::Breakpoint { .. }));
    let zero_wait = 1 + 100 * 3 + 99;
    // The loop's 8-byte cache lines miss once each (55 cycles, datasheet: "roughly 50-60"),
    // then hit.
    let misses = m.timing.memory.icache.stats().misses;
    assert!((1..=3).contains(&misses), "{misses}");
    assert_eq!(m.cycles(), zero_wait + 55 * misses);
}

#[test]
fn same_program_same_cycles() {
    let a = stm32_loop(0x705).0;
    let b = stm32_loop(0x705).0;
    assert_eq!(a, b);
}

/// SVC whose handler pends PendSV (same priority, so it waits) and returns: PendSV is taken by
/// tail-chaining. Returns (cycles, tail-chained entries).
fn svc_then_pendsv(core: CoreKind) -> (u64, u64) {
    let model = CycleModel::zero_wait(table(core));
    let mut m = machine_with(core, 0, RAM, M4_SVC, model, None, |m| {
        // SVC handler: str r3, [r2] (ICSR.PENDSVSET); bx lr. PendSV handler: bx lr.
        let svc = RAM + 0x800;
        let pendsv = RAM + 0x900;
        assert!(m.write_memory(svc, &[0x13, 0x60, 0x70, 0x47]));
        assert!(m.write_memory(pendsv, &[0x70, 0x47]));
        assert!(m.write_memory(14 * 4, &(pendsv | 1).to_le_bytes()));
        m.cpu.r[2] = 0xE000_ED04;
        m.cpu.r[3] = 1 << 28;
    });
    let stop = m.run(100_000);
    assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
    (m.cycles(), m.timing.stats.tail_chained)
}

#[test]
fn tail_chaining() {
    // M4 TRM §3.3.1 / DUI 0553A §2.3.7.1: "tail-chaining ... the processor skips the stacking
    // and unstacking": 6 cycles from the end of the first handler to the second's first
    // instruction. SVC 1, entry 12, STR 1, BX LR 1, tail-chain 6, BX LR 1, return 10, NOP 1.
    assert_eq!(
        svc_then_pendsv(CoreKind::M4F),
        (1 + 12 + 1 + 1 + 6 + 1 + 10 + 1, 1)
    );
    // Cortex-M0+ (M0+ TRM §3.3, DUI 0662B §2.3.7): entry 15, return 13 and tail-chain 8, each
    // with the BX's refill included; STR 2. SVC 1, entry 15, STR 2, BX LR 1, tail-chain 8,
    // BX LR 1, return 13, NOP 1.
    assert_eq!(
        svc_then_pendsv(CoreKind::M0Plus),
        (1 + 15 + 2 + 1 + 8 + 1 + 13 + 1, 1)
    );
}

#[test]
fn profile_counts_every_cycle_fetch_stalls_included() {
    // Flash with 5 wait states and no cache: most cycles are fetch stalls.
    let mut m = stm32_loop_machine(0x005);
    m.timing.enable_profile(0x0800_0000, 0x1000);
    assert!(matches!(m.run(10_000), StopReason::Breakpoint { .. }));
    let profiled: u64 = m.timing.profile().map(|(_, c)| c).sum();
    assert!(m.timing.memory.fetch_stall_cycles > 500);
    assert_eq!(profiled, m.cycles());
}
