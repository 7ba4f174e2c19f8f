//! The benchmark firmware of every board: it builds (cached), fits, and boots from the right
//! address — the vector table and reset handler where the board's boot ROM or loader looks.

use std::path::Path;

use mcubench::firmware;
use mcubench::project::Project;
use mcubench::size;
use mcubench::targets::{RegionKind, Transport};
use object::{Object, ObjectSection, ObjectSymbol};

fn project() -> Project {
    Project::discover(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))).unwrap()
}

#[test]
fn every_board_builds_fits_and_boots_from_its_boot_address() {
    let project = project();
    let targets = project.targets().unwrap();
    for board in &targets.boards {
        let fw = firmware::build(&project, board).unwrap_or_else(|e| panic!("{}: {e}", board.name));
        // A second build of unchanged inputs does no work.
        let again = firmware::build(&project, board).unwrap();
        assert!(again.cached, "{}: second build not cached", board.name);
        assert_eq!(again.elf, fw.elf);

        let bytes = std::fs::read(&fw.elf).unwrap();
        let elf = object::File::parse(&*bytes).unwrap();
        let flash = board.flash();
        let vectors = elf
            .section_by_name(".vector_table")
            .expect(".vector_table section");
        assert_eq!(
            vectors.address(),
            u64::from(flash.origin),
            "{}: vector table",
            board.name
        );
        let data = vectors.data().unwrap();
        let initial_sp = u32::from_le_bytes(data[0..4].try_into().unwrap());
        let reset = u32::from_le_bytes(data[4..8].try_into().unwrap());
        let ram = board.ram();
        assert_eq!(
            u64::from(initial_sp),
            ram.end(),
            "{}: initial SP at the top of RAM",
            board.name
        );
        assert_eq!(
            reset & 1,
            1,
            "{}: reset vector must have the Thumb bit",
            board.name
        );
        assert!(
            flash.contains(u64::from(reset & !1)),
            "{}: reset handler {reset:#x} outside FLASH",
            board.name
        );
        let reset_symbol = elf
            .symbols()
            .find(|s| s.name() == Ok("Reset"))
            .expect("Reset symbol");
        assert_eq!(
            reset_symbol.address() & !1,
            u64::from(reset & !1),
            "{}",
            board.name
        );

        if let Some(boot2) = board.memory.iter().find(|r| r.kind == RegionKind::Boot2) {
            let section = elf.section_by_name(".boot2").expect(".boot2 section");
            assert_eq!(section.address(), u64::from(boot2.origin));
            assert_eq!(
                section.size(),
                256,
                "boot2 is exactly 256 bytes with its CRC"
            );
        }
        // The RTT control block is there exactly when the board reports over RTT (the Artemis,
        // the Edge and the Nano 33 BLE report over a UART).
        assert_eq!(
            elf.symbols().any(|s| s.name() == Ok("_SEGGER_RTT")),
            board.transport == Transport::Rtt,
            "{}: _SEGGER_RTT with transport {:?}",
            board.name,
            board.transport
        );

        let size = size::measure(&fw.elf, board).unwrap();
        assert!(size.flash_overflow_bytes().is_none() && size.ram_overflow_bytes().is_none());
        assert!(size.text_bytes > 1024, "{}: {size:?}", board.name);
        assert_eq!(size.stack_bytes, u64::from(board.stack_bytes));
        assert_eq!(
            size.flash_used_bytes,
            size.text_bytes + size.rodata_bytes + size.data_bytes
        );
    }
}

#[test]
fn size_rejects_what_is_not_an_elf() {
    let project = project();
    let targets = project.targets().unwrap();
    let board = targets.board("pico").unwrap();
    let err = size::measure_bytes(b"\x7fELF\x01\x01", "x.elf", board).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("x.elf is not a readable ELF file"),
        "{err}"
    );
    let err = size::measure_bytes(b"hello", "x.elf", board).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("x.elf is not a readable ELF file"),
        "{err}"
    );
    let err = size::measure(Path::new("/nonexistent.elf"), board).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot read /nonexistent.elf"),
        "{err}"
    );
}

#[test]
fn firmware_built_for_one_board_is_refused_by_another_s_memory_map() {
    let project = project();
    let targets = project.targets().unwrap();
    let nucleo = targets.board("nucleo-l4r5zi").unwrap();
    let fw = firmware::build(&project, nucleo).unwrap();
    let err = size::measure(&fw.elf, targets.board("pico").unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .contains("outside every memory region of board \"pico\""),
        "{err}"
    );
}
