//! A .tflite file in memory, 16-byte aligned as the engine reads weights in place.

use std::path::Path;

/// A model's bytes, aligned for in-place reads.
pub struct AlignedModel {
    words: Vec<u128>,
    len: usize,
}

impl AlignedModel {
    pub fn read(path: &Path) -> std::io::Result<AlignedModel> {
        Ok(AlignedModel::from_bytes(&std::fs::read(path)?))
    }

    pub fn from_bytes(bytes: &[u8]) -> AlignedModel {
        let mut words = vec![0u128; bytes.len().div_ceil(16)];
        bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedModel {
            words,
            len: bytes.len(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u128, u8>(&self.words)[..self.len]
    }
}
