//! `Interpreter::invoke_op`: running the operators one at a time gives what `invoke` gives, and
//! each operator's output can be read right after it ran.

mod common;

use common::{arena, golden_dir, read_npy, AlignedModel};
use engine::{Interpreter, Model};

#[test]
fn operators_one_at_a_time_match_invoke() {
    let file = AlignedModel::load("kws_drq");
    let model = Model::parse("kws_drq", file.bytes()).unwrap();
    let needed = Interpreter::arena_bytes(&model).unwrap().total_bytes();
    let input: Vec<f32> = read_npy(&golden_dir("kws_drq").join("in_0.npy"));

    let mut words = arena(needed);
    let mut whole = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words)).unwrap();
    whole.set_input_f32(0, &input).unwrap();
    whole.invoke().unwrap();

    let mut words = arena(needed);
    let mut stepped = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words)).unwrap();
    stepped.set_input_f32(0, &input).unwrap();
    let n = stepped.ops().len();
    let mut nonzero = 0;
    for i in 0..n {
        stepped.invoke_op(i).unwrap();
        let out = stepped.ops()[i].output as usize;
        let bytes = stepped.tensor_bytes(out).unwrap();
        nonzero += usize::from(bytes.iter().any(|&b| b != 0));
    }
    assert_eq!(nonzero, n, "every operator wrote its output");
    assert_eq!(stepped.output_f32(0).unwrap(), whole.output_f32(0).unwrap());
    assert!(stepped.invoke_op(n).is_err());
}
