//! .npy arrays (test inputs, labels, goldens) as typed little-endian bytes, read with `npyz`.

use std::path::Path;

use npyz::{DType, NpyFile, Order};

/// The element types the workloads use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    I8,
    U8,
    I32,
    I64,
    F32,
    F64,
}

impl Elem {
    pub fn size(self) -> usize {
        match self {
            Elem::I8 | Elem::U8 => 1,
            Elem::I32 | Elem::F32 => 4,
            Elem::I64 | Elem::F64 => 8,
        }
    }
}

/// An array: element type, shape, and the elements as little-endian bytes in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub elem: Elem,
    pub shape: Vec<u64>,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct NpyError {
    pub path: String,
    pub reason: String,
}

impl Array {
    pub fn read(path: &Path) -> Result<Array, NpyError> {
        let err = |reason: String| NpyError {
            path: path.display().to_string(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let npy =
            NpyFile::new(&bytes[..]).map_err(|e| err(format!("not a valid .npy file: {e}")))?;
        if npy.order() != Order::C {
            return Err(err(
                "Fortran-order arrays are not supported; save it in C order".into(),
            ));
        }
        let shape = npy.shape().to_vec();
        let DType::Plain(ty) = npy.dtype() else {
            return Err(err("structured arrays are not supported".into()));
        };
        let name = ty.to_string();
        let fail = |e: std::io::Error| err(format!("cannot read the {name} elements: {e}"));
        let (elem, data): (Elem, Vec<u8>) = match name.trim_start_matches(['<', '|', '=']) {
            "i1" => (Elem::I8, npy.into_vec::<i8>().map_err(fail)?.iter().map(|&v| v as u8).collect()),
            "u1" | "b1" => (Elem::U8, npy.into_vec::<u8>().map_err(fail)?),
            "i4" => (Elem::I32, le(npy.into_vec::<i32>().map_err(fail)?, i32::to_le_bytes)),
            "i8" => (Elem::I64, le(npy.into_vec::<i64>().map_err(fail)?, i64::to_le_bytes)),
            "f4" => (Elem::F32, le(npy.into_vec::<f32>().map_err(fail)?, f32::to_le_bytes)),
            "f8" => (Elem::F64, le(npy.into_vec::<f64>().map_err(fail)?, f64::to_le_bytes)),
            other => return Err(err(format!("element type {other} is not supported (int8, uint8, int32, int64, float32, float64 are)"))),
        };
        Ok(Array { elem, shape, data })
    }

    /// Number of rows (the first dimension; 1 for a scalar).
    pub fn rows(&self) -> usize {
        self.shape.first().map_or(1, |&n| n as usize)
    }

    /// Bytes of row `k` (all dimensions but the first).
    pub fn row(&self, k: usize) -> Option<&[u8]> {
        let rows = self.rows();
        if rows == 0 || k >= rows {
            return None;
        }
        let stride = self.data.len() / rows;
        self.data.get(k * stride..(k + 1) * stride)
    }

    /// Elements per row.
    pub fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product::<u64>() as usize
    }

    /// The elements as f64 (for labels and metrics).
    pub fn to_f64(&self) -> Vec<f64> {
        let s = self.elem.size();
        self.data
            .chunks_exact(s)
            .map(|c| match self.elem {
                Elem::I8 => c[0] as i8 as f64,
                Elem::U8 => c[0] as f64,
                Elem::I32 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
                Elem::F32 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
                Elem::I64 => i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64,
                Elem::F64 => f64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
            })
            .collect()
    }
}

fn le<T: Copy, const N: usize>(v: Vec<T>, f: fn(T) -> [u8; N]) -> Vec<u8> {
    v.into_iter().flat_map(f).collect()
}
