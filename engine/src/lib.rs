#![no_std]
//! no_std TFLite inference engine (see DESIGN.md, section Engine).
