//! Flash images: what a bootloader writes, as one contiguous block of bytes from an address.

use object::elf::PT_LOAD;
use object::read::elf::{ElfFile32, FileHeader, ProgramHeader};
use object::Endianness;

/// Erased flash reads as 0xff: gaps between segments are sent as such.
pub const ERASED: u8 = 0xff;

/// The bytes of `elf`'s loadable segments (by load address, as a flasher writes them) between
/// `origin` and the end of the last segment. Every segment must lie in `origin..limit`.
pub fn flat_image(elf: &[u8], origin: u32, limit: u64) -> Result<Vec<u8>, String> {
    let file = ElfFile32::<Endianness>::parse(elf).map_err(|e| format!("not an ELF file: {e}"))?;
    let endian = file.endian();
    let headers = file
        .elf_header()
        .program_headers(endian, elf)
        .map_err(|e| format!("unreadable program headers: {e}"))?;
    let mut image: Vec<u8> = Vec::new();
    for ph in headers {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let addr = u64::from(ph.p_paddr(endian));
        let size = u64::from(ph.p_filesz(endian));
        if addr < u64::from(origin) || addr + size > limit {
            return Err(format!(
                "segment at {addr:#x} ({size} bytes) lies outside the flash range {origin:#x}..{limit:#x} the bootloader writes"
            ));
        }
        let data = ph
            .data(endian, elf)
            .map_err(|_| format!("segment at {addr:#x} runs past the end of the file"))?;
        let start = (addr - u64::from(origin)) as usize;
        let end = start + data.len();
        if image.len() < end {
            image.resize(end, ERASED);
        }
        image[start..end].copy_from_slice(data);
    }
    if image.is_empty() {
        return Err("the ELF has no loadable segment with data".into());
    }
    Ok(image)
}

/// The loadable segments of `elf` with data, by load address: what a probe writes to flash.
pub fn segments(elf: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let file = ElfFile32::<Endianness>::parse(elf).map_err(|e| format!("not an ELF file: {e}"))?;
    let endian = file.endian();
    let headers = file
        .elf_header()
        .program_headers(endian, elf)
        .map_err(|e| format!("unreadable program headers: {e}"))?;
    let mut out = Vec::new();
    for ph in headers {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let data = ph.data(endian, elf).map_err(|_| {
            format!(
                "segment at {:#x} runs past the end of the file",
                ph.p_paddr(endian)
            )
        })?;
        out.push((ph.p_paddr(endian), data.to_vec()));
    }
    if out.is_empty() {
        return Err("the ELF has no loadable segment with data".into());
    }
    Ok(out)
}

/// `firmware` (at `firmware_origin`) followed by `partition` at `partition_origin`, the gap
/// erased: one block for a bootloader that writes contiguously from the firmware's origin.
pub fn with_partition(
    firmware: &[u8],
    firmware_origin: u32,
    partition: &[u8],
    partition_origin: u32,
) -> Result<Vec<u8>, String> {
    let offset = partition_origin
        .checked_sub(firmware_origin)
        .ok_or("the model partition lies below the firmware")? as usize;
    if firmware.len() > offset {
        return Err(format!(
            "the firmware image ({} bytes) runs into the model partition at {partition_origin:#x}",
            firmware.len()
        ));
    }
    let mut out = Vec::with_capacity(offset + partition.len());
    out.extend_from_slice(firmware);
    out.resize(offset, ERASED);
    out.extend_from_slice(partition);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_follows_the_firmware_after_erased_padding() {
        let image = with_partition(&[1, 2, 3], 0x1_0000, &[9, 9], 0x1_0008).unwrap();
        assert_eq!(image, [1, 2, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 9, 9]);
        assert!(with_partition(&[0; 16], 0x1_0000, &[9], 0x1_0008)
            .unwrap_err()
            .contains("runs into"));
        assert!(with_partition(&[0; 1], 0x1_0000, &[9], 0x8000).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(flat_image(b"not an elf", 0, 1 << 20).is_err());
        assert!(flat_image(&[0x7f, b'E', b'L', b'F', 1, 1, 1], 0, 1 << 20).is_err());
    }
}
