//! A minimal, bounds-checked FlatBuffers reader (the wire format described in
//! <https://flatbuffers.dev/flatbuffers_internals.html>), enough to read TFLite's `schema.fbs`
//! in place. Every offset and length is checked against the buffer before use, nothing is
//! allocated, and no input makes it panic: a malformed buffer gives a [`ReadError`].

use crate::error::ReadError;

/// A table: its absolute position and its vtable's field slots.
#[derive(Clone, Copy, Debug)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
    /// Schema name of the table, for error messages ("Tensor", "Operator").
    what: &'static str,
}

/// A vector of scalars or offsets: position of its first element and its length.
#[derive(Clone, Copy, Debug)]
pub struct Vector<'a> {
    buf: &'a [u8],
    start: usize,
    len: usize,
    what: &'static str,
}

fn read_u32(buf: &[u8], pos: usize, what: &'static str) -> Result<u32, ReadError> {
    let end = pos.checked_add(4).ok_or(ReadError::OutOfBounds {
        what,
        offset: pos,
        file_len: buf.len(),
    })?;
    let bytes = buf.get(pos..end).ok_or(ReadError::OutOfBounds {
        what,
        offset: pos,
        file_len: buf.len(),
    })?;
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn read_u16(buf: &[u8], pos: usize, what: &'static str) -> Result<u16, ReadError> {
    let bytes =
        pos.checked_add(2)
            .and_then(|end| buf.get(pos..end))
            .ok_or(ReadError::OutOfBounds {
                what,
                offset: pos,
                file_len: buf.len(),
            })?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

/// Follows the `uoffset_t` stored at `pos` (offsets are relative to where they are stored).
fn follow(buf: &[u8], pos: usize, what: &'static str) -> Result<usize, ReadError> {
    let off = read_u32(buf, pos, what)? as usize;
    let target = pos.checked_add(off).ok_or(ReadError::OutOfBounds {
        what,
        offset: pos,
        file_len: buf.len(),
    })?;
    if target >= buf.len() {
        return Err(ReadError::OutOfBounds {
            what,
            offset: target,
            file_len: buf.len(),
        });
    }
    Ok(target)
}

impl<'a> Table<'a> {
    /// The table at absolute position `pos`.
    pub fn at(buf: &'a [u8], pos: usize, what: &'static str) -> Result<Self, ReadError> {
        // A table starts with a soffset_t to its vtable: vtable = pos - soffset.
        let soffset = read_u32(buf, pos, what)? as i32 as i64;
        let vtable = pos as i64 - soffset;
        if vtable < 0 || vtable as usize >= buf.len() {
            return Err(ReadError::OutOfBounds {
                what,
                offset: vtable.max(0) as usize,
                file_len: buf.len(),
            });
        }
        let vtable = vtable as usize;
        let vtable_len = read_u16(buf, vtable, what)? as usize;
        let table_len = read_u16(buf, vtable + 2, what)? as usize;
        // The vtable holds its own length and the table's length, then 2-byte field slots.
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) {
            return Err(ReadError::VtableTooShort { what, vtable_len });
        }
        if vtable
            .checked_add(vtable_len)
            .is_none_or(|end| end > buf.len())
        {
            return Err(ReadError::OutOfBounds {
                what,
                offset: vtable,
                file_len: buf.len(),
            });
        }
        if pos.checked_add(table_len).is_none_or(|end| end > buf.len()) {
            return Err(ReadError::OutOfBounds {
                what,
                offset: pos,
                file_len: buf.len(),
            });
        }
        Ok(Table {
            buf,
            pos,
            vtable,
            vtable_len,
            what,
        })
    }

    /// Absolute position of field `id`'s data, or `None` if the field is absent (default value).
    fn field(&self, id: u16) -> Result<Option<usize>, ReadError> {
        let slot = 4 + 2 * id as usize;
        if slot + 2 > self.vtable_len {
            // Fields beyond the vtable were added to the schema after this file was written.
            return Ok(None);
        }
        let off = read_u16(self.buf, self.vtable + slot, self.what)? as usize;
        if off == 0 {
            return Ok(None);
        }
        Ok(Some(self.pos + off))
    }

    fn scalar<const N: usize>(&self, id: u16) -> Result<Option<[u8; N]>, ReadError> {
        match self.field(id)? {
            None => Ok(None),
            Some(pos) => {
                let bytes = pos
                    .checked_add(N)
                    .and_then(|end| self.buf.get(pos..end))
                    .ok_or(ReadError::OutOfBounds {
                        what: self.what,
                        offset: pos,
                        file_len: self.buf.len(),
                    })?;
                let mut out = [0u8; N];
                out.copy_from_slice(bytes);
                Ok(Some(out))
            }
        }
    }

    pub fn u8(&self, id: u16, default: u8) -> Result<u8, ReadError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0]))
    }
    pub fn i8(&self, id: u16, default: i8) -> Result<i8, ReadError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |b| b[0] as i8))
    }
    pub fn bool(&self, id: u16) -> Result<bool, ReadError> {
        Ok(self.u8(id, 0)? != 0)
    }
    pub fn i32(&self, id: u16, default: i32) -> Result<i32, ReadError> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }
    pub fn u32(&self, id: u16, default: u32) -> Result<u32, ReadError> {
        Ok(self.scalar::<4>(id)?.map_or(default, u32::from_le_bytes))
    }
    pub fn f32(&self, id: u16, default: f32) -> Result<f32, ReadError> {
        Ok(self.scalar::<4>(id)?.map_or(default, f32::from_le_bytes))
    }
    pub fn u64(&self, id: u16, default: u64) -> Result<u64, ReadError> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    /// A sub-table field, `None` if absent.
    pub fn table(&self, id: u16, what: &'static str) -> Result<Option<Table<'a>>, ReadError> {
        match self.field(id)? {
            None => Ok(None),
            Some(pos) => Ok(Some(Table::at(
                self.buf,
                follow(self.buf, pos, what)?,
                what,
            )?)),
        }
    }

    /// A vector field of `elem_size`-byte elements, `None` if absent.
    pub fn vector(
        &self,
        id: u16,
        elem_size: usize,
        what: &'static str,
    ) -> Result<Option<Vector<'a>>, ReadError> {
        match self.field(id)? {
            None => Ok(None),
            Some(pos) => Ok(Some(Vector::at(
                self.buf,
                follow(self.buf, pos, what)?,
                elem_size,
                what,
            )?)),
        }
    }

    /// A string field as bytes (not checked to be UTF-8), empty if absent.
    pub fn string(&self, id: u16, what: &'static str) -> Result<&'a [u8], ReadError> {
        Ok(self.vector(id, 1, what)?.map_or(&[][..], |v| v.bytes()))
    }
}

impl<'a> Vector<'a> {
    fn at(
        buf: &'a [u8],
        pos: usize,
        elem_size: usize,
        what: &'static str,
    ) -> Result<Self, ReadError> {
        let len = read_u32(buf, pos, what)? as usize;
        let start = pos + 4;
        // The whole vector must lie in the buffer: a forged length is caught here, before any loop.
        let bytes = len.checked_mul(elem_size).ok_or(ReadError::OutOfBounds {
            what,
            offset: pos,
            file_len: buf.len(),
        })?;
        if start.checked_add(bytes).is_none_or(|end| end > buf.len()) {
            return Err(ReadError::OutOfBounds {
                what,
                offset: pos,
                file_len: buf.len(),
            });
        }
        Ok(Vector {
            buf,
            start,
            len,
            what,
        })
    }

    pub const fn len(&self) -> usize {
        self.len
    }
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The raw bytes of a `[ubyte]` vector (or a string).
    pub fn bytes(&self) -> &'a [u8] {
        &self.buf[self.start..self.start + self.len]
    }
    fn elem<const N: usize>(&self, i: usize) -> Option<[u8; N]> {
        if i >= self.len {
            return None;
        }
        let p = self.start + i * N;
        let mut out = [0u8; N];
        out.copy_from_slice(self.buf.get(p..p + N)?);
        Some(out)
    }
    pub fn i32(&self, i: usize) -> Option<i32> {
        self.elem::<4>(i).map(i32::from_le_bytes)
    }
    pub fn f32(&self, i: usize) -> Option<f32> {
        self.elem::<4>(i).map(f32::from_le_bytes)
    }
    pub fn i64(&self, i: usize) -> Option<i64> {
        self.elem::<8>(i).map(i64::from_le_bytes)
    }
    /// Element `i` of a vector of tables.
    pub fn table(&self, i: usize, what: &'static str) -> Result<Table<'a>, ReadError> {
        if i >= self.len {
            return Err(ReadError::IndexOutOfRange {
                what: self.what,
                index: i,
                len: self.len,
            });
        }
        let slot = self.start + i * 4;
        Table::at(self.buf, follow(self.buf, slot, what)?, what)
    }
    /// Position of the first element in the whole buffer (for alignment checks).
    pub const fn start(&self) -> usize {
        self.start
    }
}
