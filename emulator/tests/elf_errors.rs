//! Bad ELF input: every case is a typed error with a message that says what to do, never a panic.

mod common;
use common::{fixture, fixture_map};
use emulator::{CoreKind, ElfError, Machine, MachineConfig, MemoryMap, Region, RegionKind};

fn hello() -> Vec<u8> {
    std::fs::read(fixture("hello-m4f.elf")).expect("fixture exists")
}

fn load_with(map: MemoryMap, vector_table: Option<u32>, bytes: &[u8]) -> Result<(), ElfError> {
    let mut config = MachineConfig::new(CoreKind::M4F, map);
    config.vector_table = vector_table;
    let mut m = Machine::new(config).expect("valid map");
    m.load_elf(bytes).map(|_| ())
}

fn load(bytes: &[u8]) -> Result<(), ElfError> {
    load_with(fixture_map(), None, bytes)
}

#[test]
fn the_fixture_itself_loads() {
    assert_eq!(load(&hello()), Ok(()));
}

#[test]
fn not_an_elf_file() {
    let err = load(b"\x00\x01binary image").unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a valid 32-bit ELF file (missing ELF magic or file shorter than an ELF header): pass the firmware ELF \
         that cargo/gcc produced, not a .bin or .hex"
    );
}

#[test]
fn wrong_architecture() {
    let mut bytes = hello();
    bytes[18] = 62; // EM_X86_64
    bytes[19] = 0;
    let err = load(&bytes).unwrap_err();
    assert_eq!(err, ElfError::WrongArchitecture { machine: 62 });
    assert_eq!(
        err.to_string(),
        "ELF is for machine type 62, not ARM (40): build for thumbv6m-none-eabi or thumbv7em-none-eabihf"
    );
}

#[test]
fn big_endian() {
    let mut bytes = hello();
    bytes[5] = 2;
    assert_eq!(load(&bytes).unwrap_err(), ElfError::BigEndian);
}

#[test]
fn truncated_files() {
    let bytes = hello();
    for len in [10, 52, 100, 300, bytes.len() / 2] {
        let err = load(&bytes[..len]).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, ElfError::Parse(_) | ElfError::Truncated { .. }),
            "length {len}: unexpected error {err:?}"
        );
        assert!(text.contains("ELF"), "length {len}: {text}");
    }
}

#[test]
fn no_vector_table_at_the_expected_address() {
    let err = load_with(fixture_map(), Some(0x0800_1000), &hello()).unwrap_err();
    assert_eq!(err, ElfError::NoVectorTable { addr: 0x0800_1000 });
    assert!(err.to_string().starts_with("no vector table at 0x08001000"));
}

#[test]
fn entry_outside_flash() {
    // The same addresses, but the code region declared as RAM.
    let map = MemoryMap::new(vec![
        Region::new("CODE_RAM", 0x0800_0000, 256 << 10, RegionKind::Ram),
        Region::new("RAM", 0x2000_0000, 64 << 10, RegionKind::Ram),
    ]);
    let err = load_with(map, Some(0x0800_0000), &hello()).unwrap_err();
    assert!(matches!(err, ElfError::EntryOutsideFlash { .. }), "{err:?}");
}

#[test]
fn segment_outside_the_memory_map() {
    let map = MemoryMap::new(vec![
        Region::new("FLASH", 0x0000_0000, 256 << 10, RegionKind::Flash),
        Region::new("RAM", 0x2000_0000, 64 << 10, RegionKind::Ram),
    ]);
    let err = load_with(map, None, &hello()).unwrap_err();
    assert!(
        matches!(
            err,
            ElfError::SegmentOutsideMemory {
                addr: 0x0800_0000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("check the linker script"));
}

#[test]
fn overlapping_regions_are_rejected() {
    let map = MemoryMap::new(vec![
        Region::new("FLASH", 0x0800_0000, 0x1000, RegionKind::Flash),
        Region::new("MODEL", 0x0800_0800, 0x1000, RegionKind::Model),
    ]);
    let err = Machine::new(MachineConfig::new(CoreKind::M4F, map))
        .err()
        .expect("overlap rejected");
    assert_eq!(
        err.to_string(),
        "memory regions FLASH and MODEL overlap: give each address range to one region only"
    );
}

#[test]
fn symbols_are_kept_for_reports_and_transports() {
    let mut m = Machine::new(MachineConfig::new(CoreKind::M4F, fixture_map())).expect("valid map");
    m.load_elf(&hello()).expect("loads");
    let reset = m.symbols().address_of("reset").expect("reset symbol");
    assert_eq!(
        m.symbols()
            .lookup(reset + 2)
            .map(|(n, o)| (n.to_string(), o)),
        Some(("reset".to_string(), 2))
    );
}

#[test]
fn rp2040_style_boot2_then_vector_table() {
    // BOOT2 (256 bytes) + FLASH: the default vector table is the start of the flash region,
    // 0x1000_0100, not the start of XIP.
    let map = MemoryMap::new(vec![
        Region::new("BOOT2", 0x1000_0000, 0x100, RegionKind::Boot2),
        Region::new("FLASH", 0x1000_0100, 0x7_ff00, RegionKind::Flash),
        Region::new("RAM", 0x2000_0000, 0x4_2000, RegionKind::Ram),
    ]);
    let mut m = Machine::new(MachineConfig::new(CoreKind::M0Plus, map)).expect("valid map");
    // A hand-made table: SP = end of RAM, reset = a BKPT #1 at 0x1000_0200.
    let mut table = Vec::new();
    table.extend_from_slice(&0x2004_2000u32.to_le_bytes());
    table.extend_from_slice(&0x1000_0201u32.to_le_bytes());
    assert!(m.write_memory(0x1000_0100, &table));
    assert!(m.write_memory(0x1000_0200, &0xbe01u16.to_le_bytes()));
    m.reset().expect("reset");
    assert_eq!(
        m.run(10),
        emulator::StopReason::Breakpoint {
            pc: 0x1000_0200,
            imm: 1
        }
    );
    assert_eq!(m.cpu.r[13], 0x2004_2000);
}
