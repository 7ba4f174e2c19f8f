//! Reader + resolver + planner (+ one inference when they succeed) on arbitrary bytes: any input
//! gives Ok or an error, never a panic or an out-of-bounds read. The engine allocates nothing, so
//! a forged length cannot make it allocate either; the arena here is fixed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Models are read in place and need 16-byte alignment for float constants.
    let mut words = vec![0u128; data.len().div_ceil(16)];
    let bytes = &mut bytemuck_bytes(&mut words)[..data.len()];
    bytes.copy_from_slice(data);
    let Ok(model) = engine::Model::parse("fuzz", bytes) else { return };
    let _ = engine::summary(&model);
    let mut arena = vec![0u128; 16 * 1024];
    if let Ok(mut interpreter) = engine::Interpreter::new(&model, bytemuck_bytes(&mut arena)) {
        let _ = interpreter.invoke();
    }
});

fn bytemuck_bytes(words: &mut [u128]) -> &mut [u8] {
    // SAFETY: u8 has no alignment or validity requirements; the length covers the same memory.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), words.len() * 16) }
}
