//! Cortex-M0+ cycle counts.
//!
//! Source: Arm Cortex-M0+ Technical Reference Manual r0p1 (DDI 0484C), §3.3 "Instruction set
//! summary" (Table 3-1, counts for a zero-wait-state system with the single-cycle I/O port),
//! and the Cortex-M0+ Devices Generic User Guide (DUI 0662B) §2.3 for exception handling.
//! The M0+ has a two-stage pipeline: a taken branch refills it in one cycle. Memory wait states
//! are not in this table: see [`super::memory`].

use super::CoreTable;

/// Cortex-M0+ r0p1 (DDI 0484C).
pub const TABLE: CoreTable = CoreTable {
    name: "Cortex-M0+",
    // Table 3-1: MOVS, ADDS, SUBS, ANDS, shifts, extends, REV, CMP ...: 1.
    alu: 1,
    // Table 3-1: B<cond> 2 taken / 1 not taken, B 2, BX 2, BLX 2; ADD PC / MOV PC 2: 1 + 1.
    branch_refill: 1,
    branch_refill_immediate: 1,
    branch: 1,
    // Table 3-1: BL 3 (a 32-bit instruction: 2, plus the refill).
    branch_link: 2,
    // No TBB/TBH on ARMv6-M.
    table_branch: 2,
    // Table 3-1: MULS 1 with the fast multiplier, 32 with the small one (an implementation
    // option: see `ChipMemoryTiming::small_multiplier`).
    multiply: 1,
    multiply_small: 32,
    multiply_accumulate: 1,
    long_multiply: 1,
    // No divider on ARMv6-M.
    divide_min: 1,
    divide_max: 1,
    // Table 3-1: LDR/LDRH/LDRB/LDRSH/LDRSB 2, STR/STRH/STRB 2 (1 on the single-cycle I/O port,
    // see `ChipMemoryTiming::io_port`); no load pipelining.
    load: 2,
    load_pipelined: 2,
    store: 2,
    store_reg_offset: 2,
    dual: 3,
    // Table 3-1: LDM/STM/PUSH/POP 1 + N; POP {.., PC} 3 + N (1 + N, the refill, one more).
    multiple_base: 1,
    load_pc_extra: 1,
    exclusive: 2,
    fpu: 1,
    fpu_move2: 1,
    fpu_mac: 1,
    fpu_div_sqrt: 1,
    fpu_load_store: 1,
    // Table 3-1: MRS 3, MSR 3, CPS 1, NOP/SEV/WFI/WFE/YIELD 1; DMB/DSB/ISB 3.
    system: 3,
    barrier: 3,
    // DUI 0662B §2.3.7 and the M0+ product brief: 15 cycles interrupt latency with zero-wait
    // memory. Return and tail-chaining are not tabulated by Arm for the M0+: modelled like the
    // M4's relation (return 2 cycles less than entry; tail chain half of entry).
    exception_entry: 15,
    exception_return: 13,
    tail_chain: 8,
    fp_context: 0,
};
