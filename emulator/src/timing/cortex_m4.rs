//! Cortex-M4 (with FPv4-SP) cycle counts.
//!
//! Source: Arm Cortex-M4 Technical Reference Manual r0p1 (DDI 0439B), §3.3.1 "Table of processor
//! instructions" (Table 3-1, counts for a zero-wait-state system), §3.3.2 "Load/store timings",
//! and §7.2.3 "FPU instruction set" (Table 7-1) for the FPU; exception timing from §3.3.1's
//! notes and the Cortex-M4 Devices Generic User Guide (DUI 0553A) §2.3.7-2.3.8 (12 cycles
//! entry, tail-chaining). Memory wait states are not in this table: see [`super::memory`].

use super::CoreTable;

/// Cortex-M4 r0p1 (DDI 0439B).
pub const TABLE: CoreTable = CoreTable {
    name: "Cortex-M4",
    // Table 3-1: MOV, ADD, ..., shifts, extends, bit-field, saturation, parallel arithmetic: 1.
    alu: 1,
    // Table 3-1 note: P, the pipeline refill after a taken branch, "ranges from 1 to 3
    // depending on the alignment and width of the target instruction, and whether the
    // processor manages to speculate the address early"; the branch-timing note of the
    // Cortex-M3/M4 TRMs: "Taken branches with an immediate are normally 1 cycle of pipeline
    // reload (2 cycles total). Taken branches with register operand are normally 2 cycles of
    // pipeline reload (3 cycles total)". The Cortex-M3 TRM (DDI 0337G) Table 15-3 lists which
    // branches issue their target from decode (B, BL) and which from execute (BX/BLX Rm,
    // CBZ/CBNZ, LDR/LDM to PC, ADD/MOV PC). BX LR, which issues from decode when LR was not
    // written just before, is modelled with the register figure.
    branch_refill: 2,
    branch_refill_immediate: 1,
    // Table 3-1: B, BL, BX, BLX, CBZ: 1 + P (P added only when taken; not taken: 1).
    branch: 1,
    // Table 3-1: BL: 1 + P.
    branch_link: 1,
    // Table 3-1: TBB/TBH: 2 + P.
    table_branch: 2,
    // Table 3-1: MUL 1, MLA 1, MLS 1; SMULL/UMULL/SMLAL/UMLAL 1; DSP multiplies (SMLA<x><y>,
    // SMLAD, SMUAD, SMLALD, SMMLA ...) 1.
    multiply: 1,
    multiply_small: 1,
    multiply_accumulate: 1,
    long_multiply: 1,
    // Table 3-1: SDIV/UDIV 2-12, "Division operations use early termination to minimize the
    // number of cycles required based on the number of leading ones and zeroes in the input
    // operands".
    divide_min: 2,
    divide_max: 12,
    // Table 3-1: LDR/LDRB/LDRH/LDRSB/LDRSH 2; §3.3.2: "LDR R0,[R1]; LDR R1,[R2]" pipelines: a
    // load or store following a load takes one cycle less unless it uses the loaded register
    // as its address.
    load: 2,
    load_pipelined: 1,
    // §3.3.2: "STR Rx,[Ry,#imm] is always one cycle": address phase, then the data phase
    // overlaps the next instruction (store buffer). Register-offset STR: 2, 1 after a load.
    store: 1,
    store_reg_offset: 2,
    // Table 3-1: LDRD/STRD 1 + N with N = 2; LDM/STM/PUSH/POP 1 + N (+P when PC is loaded).
    dual: 3,
    multiple_base: 1,
    load_pc_extra: 0,
    // Table 3-1: LDREX/STREX 2.
    exclusive: 2,
    // Table 7-1: VADD, VSUB, VMUL, VNMUL, VABS, VNEG, VCMP, VCVT, VMOV (register, immediate,
    // core <-> S), VMRS, VMSR: 1.
    fpu: 1,
    // Table 7-1: VMOV between two core registers and two S registers: 2.
    fpu_move2: 2,
    // Table 7-1: VMLA, VMLS, VNMLA, VNMLS, VFMA, VFMS, VFNMA, VFNMS: 3.
    fpu_mac: 3,
    // Table 7-1: VDIV 14, VSQRT 14.
    fpu_div_sqrt: 14,
    // Table 7-1: VLDR/VSTR 2 (.32; .64 one more word); VLDM/VSTM/VPUSH/VPOP 1 + N.
    fpu_load_store: 2,
    // Table 3-1: MRS 1, MSR 1, CPS 1, NOP/hints 1, DMB/DSB/ISB 1 + B (B modelled as 0), IT:
    // foldable onto the previous 16-bit instruction, modelled as 1 (folding not modelled).
    system: 1,
    barrier: 1,
    // DUI 0553A §2.3.7 / TRM §3.3.1 note on exception latency: 12 cycles from the request to
    // the first handler instruction with zero-wait-state memory, 10 cycles of return (unstacking
    // and refill), 6 cycles for a tail-chained exception; 17 words of FP context (S0-S15, FPSCR)
    // stacked eagerly add 17 cycles (with lazy stacking, the default, only the space is reserved).
    exception_entry: 12,
    exception_return: 10,
    tail_chain: 6,
    fp_context: 17,
};
