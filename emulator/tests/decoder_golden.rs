//! Decoder golden test: every 16-bit halfword and 140 000 pseudo-random 32-bit words are decoded
//! by this crate and by `llvm-objdump` (the llvm-tools component that rust-toolchain.toml
//! installs). For each word the mnemonic must agree, or the emulator must reject an encoding
//! that LLVM prints but the architecture leaves UNPREDICTABLE. A word LLVM cannot decode must be
//! UNDEFINED here too. For the integer encodings the operands are compared as well: every
//! register LLVM prints must be one the emulator decoded, and ALU/shift immediates must match.

use emulator::isa::{decode, is_wide, Arch, Insn, Op};
use std::path::PathBuf;
use std::process::Command;

/// llvm-objcopy/llvm-objdump from the active toolchain's sysroot.
fn llvm_tool(name: &str) -> PathBuf {
    let sysroot = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc runs");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let lib = PathBuf::from(&sysroot).join("lib/rustlib");
    for entry in std::fs::read_dir(&lib)
        .expect("sysroot has lib/rustlib")
        .flatten()
    {
        let p = entry.path().join("bin").join(name);
        if p.exists() {
            return p;
        }
    }
    panic!(
        "{name} not found under {}: install it with `rustup component add llvm-tools`",
        lib.display()
    );
}

/// Disassemble `words` (each 2 or 4 bytes, little-endian halfwords) with llvm-objdump; returns
/// one (mnemonic or "<unknown>", operands) per word.
fn objdump(words: &[Vec<u16>], arch: Arch) -> Vec<(String, String)> {
    let dir = std::env::temp_dir().join(format!("emu-golden-{}-{:?}", std::process::id(), arch));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bin = dir.join("words.bin");
    let obj = dir.join("words.o");
    let bytes: Vec<u8> = words
        .iter()
        .flatten()
        .flat_map(|h| h.to_le_bytes())
        .collect();
    std::fs::write(&bin, bytes).expect("write words");
    let st = Command::new(llvm_tool("llvm-objcopy"))
        .args(["-I", "binary", "-O", "elf32-littlearm"])
        .arg(&bin)
        .arg(&obj)
        .status()
        .expect("llvm-objcopy runs");
    assert!(st.success());
    let (triple, attrs) = match arch {
        Arch::V6M => ("--triple=thumbv6m-none-eabi", "--mattr=-dsp"),
        Arch::V7EM => ("--triple=thumbv7em-none-eabi", "--mattr=+dsp,+vfp4d16sp"),
    };
    let out = Command::new(llvm_tool("llvm-objdump"))
        .args(["-D", triple, attrs])
        .arg(&obj)
        .output()
        .expect("objdump runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut by_addr = std::collections::HashMap::new();
    for line in text.lines() {
        let Some((addr, rest)) = line.trim_start().split_once(':') else {
            continue;
        };
        let Ok(addr) = u32::from_str_radix(addr.trim(), 16) else {
            continue;
        };
        let mut fields = rest.split('\t').filter(|f| !f.trim().is_empty());
        fields.next(); // the hex bytes
        let field = fields.next().unwrap_or("<unknown>");
        let mnem = field
            .split_whitespace()
            .next()
            .unwrap_or("<unknown>")
            .to_string();
        let operands = fields
            .next()
            .unwrap_or("")
            .split('@')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        by_addr.insert(addr, (mnem, operands));
    }
    let mut addr = 0u32;
    words
        .iter()
        .map(|w| {
            let m = by_addr
                .get(&addr)
                .cloned()
                .unwrap_or_else(|| ("<missing>".into(), String::new()));
            addr += 2 * w.len() as u32;
            m
        })
        .collect()
}

const CONDS: [&str; 16] = [
    "eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "cs", "cc",
];

/// The ops a mnemonic may decode to.
fn expected(mnem: &str) -> Option<Vec<Op>> {
    use Op::*;
    let base = mnem.split('.').next().unwrap_or(mnem);
    let dp = |imm: Op, reg: Op| vec![imm, reg];
    let v = match base {
        "add" | "adds" | "addw" => vec![AddImm, AddReg, AluWritePc],
        "sub" | "subs" | "subw" => dp(SubImm, SubReg),
        "adr" => vec![MovImm],
        "adc" | "adcs" => dp(AdcImm, AdcReg),
        "sbc" | "sbcs" => dp(SbcImm, SbcReg),
        "rsb" | "rsbs" => dp(RsbImm, RsbReg),
        "and" | "ands" => dp(AndImm, AndReg),
        "bic" | "bics" => dp(BicImm, BicReg),
        "orr" | "orrs" => dp(OrrImm, OrrReg),
        "orn" | "orns" => dp(OrnImm, OrnReg),
        "eor" | "eors" => dp(EorImm, EorReg),
        "mov" | "movs" | "movw" => vec![MovImm, MovReg, AluWritePc],
        "mvn" | "mvns" => dp(MvnImm, MvnReg),
        "movt" => vec![Movt],
        "lsl" | "lsls" | "lsr" | "lsrs" | "asr" | "asrs" | "ror" | "rors" | "rrx" | "rrxs" => {
            vec![MovReg, ShiftReg]
        }
        "tst" => dp(TstImm, TstReg),
        "teq" => dp(TeqImm, TeqReg),
        "cmp" => dp(CmpImm, CmpReg),
        "cmn" => dp(CmnImm, CmnReg),
        "mul" | "muls" => vec![Mul],
        "mla" => vec![Mla],
        "mls" => vec![Mls],
        "umull" => vec![Umull],
        "smull" => vec![Smull],
        "umlal" => vec![Umlal],
        "smlal" => vec![Smlal],
        "umaal" => vec![Umaal],
        "sdiv" => vec![Sdiv],
        "udiv" => vec![Udiv],
        "smlabb" | "smlabt" | "smlatb" | "smlatt" => vec![Smlaxy],
        "smulbb" | "smulbt" | "smultb" | "smultt" => vec![Smulxy],
        "smlalbb" | "smlalbt" | "smlaltb" | "smlaltt" => vec![Smlalxy],
        "smulwb" | "smulwt" => vec![Smulwy],
        "smlawb" | "smlawt" => vec![Smlawy],
        "smlad" | "smladx" => vec![Smlad],
        "smlsd" | "smlsdx" => vec![Smlsd],
        "smuad" | "smuadx" => vec![Smuad],
        "smusd" | "smusdx" => vec![Smusd],
        "smlald" | "smlaldx" => vec![Smlald],
        "smlsld" | "smlsldx" => vec![Smlsld],
        "smmul" | "smmulr" => vec![Smmul],
        "smmla" | "smmlar" => vec![Smmla],
        "smmls" | "smmlsr" => vec![Smmls],
        "usad8" => vec![Usad8],
        "usada8" => vec![Usada8],
        "clz" => vec![Clz],
        "rbit" => vec![Rbit],
        "rev" => vec![Rev],
        "rev16" => vec![Rev16],
        "revsh" => vec![Revsh],
        "sxtb" | "sxth" | "uxtb" | "uxth" | "sxtb16" | "uxtb16" | "sxtab" | "sxtah" | "uxtab"
        | "uxtah" | "sxtab16" | "uxtab16" => vec![Extend],
        "bfi" => vec![Bfi],
        "bfc" => vec![Bfc],
        "ubfx" => vec![Ubfx],
        "sbfx" => vec![Sbfx],
        "pkhbt" | "pkhtb" => vec![Pkh],
        "sel" => vec![Sel],
        "ssat" => vec![Ssat],
        "usat" => vec![Usat],
        "ssat16" => vec![Ssat16],
        "usat16" => vec![Usat16],
        "qadd" => vec![Qadd],
        "qsub" => vec![Qsub],
        "qdadd" => vec![Qdadd],
        "qdsub" => vec![Qdsub],
        "ldr" | "ldrt" => vec![LdrImm, LdrReg],
        "ldrb" | "ldrbt" => vec![LdrbImm, LdrbReg],
        "ldrh" | "ldrht" => vec![LdrhImm, LdrhReg],
        "ldrsb" | "ldrsbt" => vec![LdrsbImm, LdrsbReg],
        "ldrsh" | "ldrsht" => vec![LdrshImm, LdrshReg],
        "str" | "strt" => vec![StrImm, StrReg],
        "strb" | "strbt" => vec![StrbImm, StrbReg],
        "strh" | "strht" => vec![StrhImm, StrhReg],
        "ldrd" => vec![Ldrd],
        "strd" => vec![Strd],
        "ldrex" | "ldrexb" | "ldrexh" => vec![Ldrex],
        "strex" | "strexb" | "strexh" => vec![Strex],
        "clrex" => vec![Clrex],
        "tbb" | "tbh" => vec![Tbb],
        "ldm" | "ldmia" | "ldmdb" | "ldmfd" | "ldmea" => vec![Ldm],
        "pop" => vec![Ldm, LdrImm],
        "stm" | "stmia" | "stmdb" | "stmea" | "stmfd" => vec![Stm],
        "push" => vec![Stm, StrImm],
        "b" => vec![B, BCond],
        "bl" => vec![Bl],
        "bx" => vec![Bx],
        "blx" => vec![Blx],
        "cbz" | "cbnz" => vec![Cbz],
        "it" | "ite" | "itt" | "itee" | "itet" | "itte" | "ittt" | "iteee" | "iteet" | "itete"
        | "itett" | "ittee" | "ittet" | "ittte" | "itttt" => vec![It],
        "mrs" => vec![Mrs],
        "msr" => vec![Msr],
        "cpsie" | "cpsid" => vec![Cps],
        "nop" | "hint" | "yield" | "dmb" | "dsb" | "isb" | "dbg" | "pld" | "pli" | "pldw" => {
            vec![Nop]
        }
        "wfe" => vec![Wfe],
        "wfi" => vec![Wfi],
        "sev" => vec![Sev],
        "svc" => vec![Svc],
        "bkpt" => vec![Bkpt],
        "udf" | "__brkdiv0" | "trap" => vec![Udf],
        "vldr" => vec![Vldr],
        "vstr" => vec![Vstr],
        "vldmia" | "vldmdb" | "vpop" | "fldmiax" | "fldmdbx" => vec![Vldm],
        "vstmia" | "vstmdb" | "vpush" | "fstmiax" | "fstmdbx" => vec![Vstm],
        "vmov" => vec![VmovReg, VmovImm, VmovToS, VmovFromS, Vmov2ToS, Vmov2FromS],
        "vmrs" => vec![Vmrs],
        "vmsr" => vec![Vmsr],
        "vadd" => vec![Vadd],
        "vsub" => vec![Vsub],
        "vmul" => vec![Vmul],
        "vnmul" => vec![Vnmul],
        "vdiv" => vec![Vdiv],
        "vfma" => vec![Vfma],
        "vfms" => vec![Vfms],
        "vfnma" => vec![Vfnma],
        "vfnms" => vec![Vfnms],
        "vmla" => vec![Vmla],
        "vmls" => vec![Vmls],
        "vnmla" => vec![Vnmla],
        "vnmls" => vec![Vnmls],
        "vsqrt" => vec![Vsqrt],
        "vneg" => vec![Vneg],
        "vabs" => vec![Vabs],
        "vcmp" | "vcmpe" => vec![Vcmp],
        "vcvt" | "vcvtr" => vec![VcvtToInt, VcvtFromInt, VcvtFixed],
        "vcvtb" | "vcvtt" => vec![VcvtHalf],
        // Generic coprocessor instructions: valid ARMv7-M encodings, but the Cortex-M4 has no
        // coprocessor other than the FPU, so they are UsageFaults (NOCP) here.
        "cdp" | "cdp2" | "ldc" | "ldc2" | "ldcl" | "ldc2l" | "stc" | "stc2" | "stcl" | "stc2l"
        | "mcr" | "mcr2" | "mrc" | "mrc2" | "mcrr" | "mcrr2" | "mrrc" | "mrrc2" => vec![],
        "<unknown>" => vec![],
        _ => {
            // Parallel add/subtract: prefix + operation.
            const PREFIXES: [&str; 6] = ["uq", "uh", "sh", "s", "q", "u"];
            const OPS: [&str; 6] = ["add16", "asx", "sax", "sub16", "add8", "sub8"];
            if PREFIXES
                .iter()
                .any(|p| base.strip_prefix(p).is_some_and(|rest| OPS.contains(&rest)))
            {
                return Some(vec![Parallel]);
            }
            if let Some(c) = base.strip_prefix('b') {
                if CONDS.contains(&c) {
                    return Some(vec![BCond]);
                }
            }
            return None;
        }
    };
    Some(v)
}

/// A5.3.8/A5.3.9: halfword and signed-byte loads with Rt = PC in the unallocated hint slots
/// "execute as NOP" per the manual, where LLVM prints nothing.
fn unallocated_hint(w: &[u16]) -> bool {
    w.len() == 2 && w[0] & 0xfe10 == 0xf810 && w[1] >> 12 == 0xf
}

fn check(arch: Arch, words: Vec<Vec<u16>>) -> (usize, usize) {
    let names = objdump(&words, arch);
    let mut agree = 0;
    let mut operands_checked = 0;
    let mut failures = Vec::new();
    for (w, (name, operands)) in words.iter().zip(&names) {
        let insn: Insn = decode(arch, 0x1000, w[0], w.get(1).copied().unwrap_or(0));
        if exp_contains(name, insn.op) {
            match operand_mismatch(&insn, name, operands) {
                Ok(checked) => operands_checked += checked as usize,
                Err(why) => {
                    failures.push(format!(
                        "{w:04x?}: {name} {operands}: {why} (emulator: {insn:?})"
                    ));
                    continue;
                }
            }
        }
        let exp = expected(name)
            .unwrap_or_else(|| panic!("no mapping for mnemonic {name:?} of {w:04x?}"));
        let ok = if exp.is_empty() {
            insn.is_undefined() || insn.op == Op::Udf || unallocated_hint(w)
        } else {
            exp.contains(&insn.op) || insn.op == Op::Unpredictable
        };
        if ok {
            agree += (!exp.is_empty() && exp.contains(&insn.op)) as usize;
        } else {
            failures.push(format!(
                "{w:04x?}: llvm-objdump says {name}, emulator decodes {:?}",
                insn.op
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} encodings disagree:\n{}",
        failures.len(),
        words.len(),
        failures[..failures.len().min(60)].join("\n")
    );
    // Registers and immediates were compared for a large share of the valid encodings (the
    // ARMv6-M 32-bit space holds only BL, MRS, MSR and barriers, which have none to compare).
    assert!(
        agree < 1000 || operands_checked * 3 > agree,
        "operands checked for only {operands_checked} of {agree}"
    );
    eprintln!("{arch:?}: {agree} mnemonics and {operands_checked} operand lists agree");
    (agree, words.len())
}

fn exp_contains(name: &str, op: Op) -> bool {
    expected(name).is_some_and(|e| e.contains(&op))
}

/// Register number of an operand token (`r7`, `sp`, `lr`, `pc`).
fn register(token: &str) -> Option<u8> {
    match token {
        "sp" => Some(13),
        "lr" => Some(14),
        "pc" => Some(15),
        _ => token.strip_prefix('r')?.parse().ok().filter(|&n| n < 13),
    }
}

/// The last `#imm` of an operand string, as a 32-bit pattern.
fn last_immediate(operands: &str) -> Option<u32> {
    let text = operands
        .rsplit('#')
        .next()
        .filter(|_| operands.contains('#'))?;
    let text: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let v = match digits.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<u64>().ok()?,
    } as u32;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Operand-level check for the integer encodings: every register LLVM prints must be one the
/// emulator decoded, and the immediate of ALU-immediate and shift-immediate forms must match.
fn operand_mismatch(insn: &Insn, name: &str, operands: &str) -> Result<bool, String> {
    use Op::*;
    let skip = matches!(
        insn.op,
        Ldm | Stm
            | B
            | BCond
            | Bl
            | Cbz
            | It
            | Nop
            | Cps
            | Svc
            | Bkpt
            | Udf
            | Mrs
            | Msr
            | Wfi
            | Wfe
            | Sev
            | Clrex
    ) || insn.rn == emulator::isa::R_ZERO && !matches!(insn.op, Extend)
        || format!("{:?}", insn.op).starts_with('V')
        || name.starts_with("adr");
    if skip {
        return Ok(false);
    }
    let mut regs = vec![insn.rd, insn.rn, insn.rm];
    if !matches!(
        insn.op,
        Parallel | Ssat | Usat | Ssat16 | Usat16 | Ubfx | Sbfx | Bfi | Bfc
    ) {
        regs.push(insn.ra);
    }
    for token in operands.split(|c: char| !c.is_ascii_alphanumeric()) {
        if let Some(r) = register(token) {
            if !regs.contains(&r) {
                return Err(format!("register {token} not decoded"));
            }
        }
    }
    let imm_form = matches!(
        insn.op,
        AndImm
            | BicImm
            | OrrImm
            | OrnImm
            | EorImm
            | TstImm
            | TeqImm
            | MovImm
            | MvnImm
            | AddImm
            | AdcImm
            | SubImm
            | SbcImm
            | RsbImm
            | CmpImm
            | CmnImm
    );
    let base = name.split('.').next().unwrap_or(name);
    let shift_imm = insn.op == MovReg
        && matches!(
            base,
            "lsl" | "lsls" | "lsr" | "lsrs" | "asr" | "asrs" | "ror" | "rors"
        );
    if imm_form || shift_imm {
        let imm =
            last_immediate(operands).ok_or_else(|| format!("no immediate in {operands:?}"))?;
        if imm != insn.imm {
            return Err(format!("immediate {imm:#x}, decoded {:#x}", insn.imm));
        }
    }
    Ok(true)
}

/// IT_T1: `1011 1111 firstcond mask` with a non-zero mask.
fn is_it(h: u16) -> bool {
    h & 0xff00 == 0xbf00 && h & 0xf != 0
}

/// All 16-bit encodings except IT (IT changes how llvm-objdump prints what follows).
fn all_halfwords() -> Vec<Vec<u16>> {
    (0..=0xffffu32)
        .map(|h| h as u16)
        .filter(|&h| !(is_wide(h) || is_it(h)))
        .map(|h| vec![h])
        .collect()
}

/// Deterministic pseudo-random 32-bit encodings (xorshift): the first halfword uniform over the
/// 32-bit space 0xE800..=0xFFFF; one word in four forced into the FPU's coprocessor space
/// (0xEC00..=0xEFFF with coprocessor 10/11) so the FP decoder sees as many words as the rest.
fn random_words(n: usize, seed: u64) -> Vec<Vec<u16>> {
    let mut s = seed;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|k| {
            let r = next();
            let (hw1, hw2) = if k % 4 == 0 {
                (
                    0xec00 | (r as u16 & 0x03ff),
                    ((r >> 16) as u16 & 0xf1ff) | 0x0a00,
                )
            } else {
                (0xe800 + ((r & 0xffff) % 0x1800) as u16, (r >> 16) as u16)
            };
            vec![hw1, hw2]
        })
        .collect()
}

#[test]
fn every_16bit_encoding_matches_llvm_on_v7em() {
    let (agree, total) = check(Arch::V7EM, all_halfwords());
    assert!(
        agree * 100 / total >= 90,
        "only {agree} of {total} agree exactly"
    );
}

#[test]
fn every_16bit_encoding_matches_llvm_on_v6m() {
    let (agree, total) = check(Arch::V6M, all_halfwords());
    assert!(
        agree * 100 / total >= 90,
        "only {agree} of {total} agree exactly"
    );
}

#[test]
fn random_32bit_encodings_match_llvm_on_v7em() {
    let (agree, total) = check(Arch::V7EM, random_words(120_000, 0x9e37_79b9_7f4a_7c15));
    // Most random words land in the coprocessor and unallocated spaces, which must be UNDEFINED.
    assert!(agree > total / 10, "only {agree} of {total} agree exactly");
}

#[test]
fn random_32bit_encodings_match_llvm_on_v6m() {
    check(Arch::V6M, random_words(20_000, 0x1234_5678_9abc_def1));
}
