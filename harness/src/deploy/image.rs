//! Flash images: what a bootloader writes, as one contiguous block of bytes from an address.

use object::elf::PT_LOAD;
use object::read::elf::{ElfFile32, FileHeader, ProgramHeader};
use object::Endianness;

/// Erased flash reads as 0xff: gaps between segments are sent as such.
pub const ERASED: u8 = 0xff;

/// Why an ELF, or an ELF and a model partition, is not an image to write to flash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("not an ELF file: {0}")]
    NotElf(object::read::Error),
    #[error("unreadable program headers: {0}")]
    ProgramHeaders(object::read::Error),
    #[error(
        "segment at {addr:#x} ({size} bytes) lies outside the flash range {origin:#x}..{limit:#x} the bootloader writes"
    )]
    OutsideFlash {
        addr: u64,
        size: u64,
        origin: u32,
        limit: u64,
    },
    #[error("segment at {addr:#x} runs past the end of the file")]
    PastEndOfFile { addr: u32 },
    #[error("the ELF has no loadable segment with data")]
    NoData,
    #[error("the model partition lies below the firmware")]
    PartitionBelowFirmware,
    #[error(
        "the firmware image ({firmware} bytes) runs into the model partition at {partition_origin:#x}"
    )]
    FirmwareIntoPartition {
        firmware: usize,
        partition_origin: u32,
    },
}

/// The bytes of `elf`'s loadable segments (by load address, as a flasher writes them) between
/// `origin` and the end of the last segment. Every segment must lie in `origin..limit`.
pub fn flat_image(elf: &[u8], origin: u32, limit: u64) -> Result<Vec<u8>, ImageError> {
    let file = ElfFile32::<Endianness>::parse(elf).map_err(ImageError::NotElf)?;
    let endian = file.endian();
    let headers = file
        .elf_header()
        .program_headers(endian, elf)
        .map_err(ImageError::ProgramHeaders)?;
    let mut image: Vec<u8> = Vec::new();
    for ph in headers {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let addr = u64::from(ph.p_paddr(endian));
        let size = u64::from(ph.p_filesz(endian));
        if addr < u64::from(origin) || addr + size > limit {
            return Err(ImageError::OutsideFlash {
                addr,
                size,
                origin,
                limit,
            });
        }
        let data = ph
            .data(endian, elf)
            .map_err(|_| ImageError::PastEndOfFile {
                addr: ph.p_paddr(endian),
            })?;
        let start = (addr - u64::from(origin)) as usize;
        let end = start + data.len();
        if image.len() < end {
            image.resize(end, ERASED);
        }
        image[start..end].copy_from_slice(data);
    }
    if image.is_empty() {
        return Err(ImageError::NoData);
    }
    Ok(image)
}

/// The loadable segments of `elf` with data, by load address: what a probe writes to flash.
pub fn segments(elf: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, ImageError> {
    let file = ElfFile32::<Endianness>::parse(elf).map_err(ImageError::NotElf)?;
    let endian = file.endian();
    let headers = file
        .elf_header()
        .program_headers(endian, elf)
        .map_err(ImageError::ProgramHeaders)?;
    let mut out = Vec::new();
    for ph in headers {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let data = ph
            .data(endian, elf)
            .map_err(|_| ImageError::PastEndOfFile {
                addr: ph.p_paddr(endian),
            })?;
        out.push((ph.p_paddr(endian), data.to_vec()));
    }
    if out.is_empty() {
        return Err(ImageError::NoData);
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
) -> Result<Vec<u8>, ImageError> {
    let offset = partition_origin
        .checked_sub(firmware_origin)
        .ok_or(ImageError::PartitionBelowFirmware)? as usize;
    if firmware.len() > offset {
        return Err(ImageError::FirmwareIntoPartition {
            firmware: firmware.len(),
            partition_origin,
        });
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
        let e = with_partition(&[0; 16], 0x1_0000, &[9], 0x1_0008).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the firmware image (16 bytes) runs into the model partition at 0x10008"
        );
        assert_eq!(
            with_partition(&[0; 1], 0x1_0000, &[9], 0x8000),
            Err(ImageError::PartitionBelowFirmware)
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let e = flat_image(b"not an elf", 0, 1 << 20).unwrap_err();
        assert!(matches!(e, ImageError::NotElf(_)), "{e:?}");
        assert!(e.to_string().starts_with("not an ELF file: "), "{e}");
        assert!(flat_image(&[0x7f, b'E', b'L', b'F', 1, 1, 1], 0, 1 << 20).is_err());
    }
}
