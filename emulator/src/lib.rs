//! Cortex-M instruction-set simulator: the virtual boards (see DESIGN.md, section Emulator).
