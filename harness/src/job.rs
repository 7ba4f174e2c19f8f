//! One job: a workload variant on a board. Prepared on the host (checks that reject what cannot
//! run, the model partition), executed on a virtual board, turned into a `JobResult`.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use engine::{Interpreter, Model, TensorType};
use protocol::partition::{Header, PartitionError, FLAG_ACCURACY};

use crate::accuracy::{AccuracyError, Feed, TestSet};
use crate::deploy::{Deployer, DeviceJob, End, Limits};
use crate::golden::{check_output, tensor_input, GoldenError};
use crate::model_file::AlignedModel;
use crate::npy::{Array, NpyError};
use crate::results::{Energy, Flash, JobKey, JobResult, JobStatus, Latency, OpProfile, Ram};
use crate::size::FirmwareSize;
use crate::stream::{Measurements, OpCycles};
use crate::targets::Board;
use crate::workloads::{ModelVariant, Workload};

/// How many runs and which test sample a job uses.
#[derive(Debug, Clone, Copy)]
pub struct RunSettings {
    pub warmup_runs: u32,
    pub timed_runs: u32,
    /// The row of test_inputs.npy / the golden used for the latency runs and the output check.
    pub sample: usize,
    pub limits: Limits,
    /// Accuracy mode: stream up to this many test samples after the timed runs (workloads
    /// with labels only). None: off.
    pub accuracy: Option<usize>,
}

impl RunSettings {
    /// The limits of a job that streams `samples` more inferences after its timed runs: the
    /// instruction budget and the host time grow in proportion.
    fn limits_with(&self, samples: usize) -> Limits {
        let runs = u64::from(self.warmup_runs + self.timed_runs).max(1);
        let scale = (runs + samples as u64).div_ceil(runs);
        Limits {
            max_instructions: self.limits.max_instructions.saturating_mul(scale),
            timeout: self
                .limits
                .timeout
                .saturating_mul(scale.min(u64::from(u32::MAX)) as u32),
        }
    }
}

/// A job ready to run: its partition and what its output must be.
#[derive(Debug, Clone)]
pub struct PreparedJob {
    pub key: JobKey,
    pub partition: Vec<u8>,
    pub model_bytes: u64,
    pub expected: Vec<u8>,
    pub output_type: TensorType,
    pub arena_needed: u64,
    /// Accuracy mode's test set, when on and the workload has labels.
    pub test: Option<Arc<TestSet>>,
    /// The model's operators as the host's engine sees them, for the `@op` records.
    pub ops: Vec<OpInfo>,
}

/// What the host knows of one operator: the firmware reports only its cycles and code.
#[derive(Debug, Clone, PartialEq)]
pub struct OpInfo {
    /// TFLite `BuiltinOperator` code.
    pub code: i32,
    pub name: String,
    pub output_shape: Vec<u32>,
    pub macs: u64,
}

/// Why a job is rejected before it runs, in a sentence: what does not fit or cannot be read,
/// and where.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot read {}: {source}", .path.display())]
    ReadModel {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The model does not parse, or the engine has no kernel for one of its operators.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    #[error("{job} needs {needed_bytes} bytes of arena but board \"{board}\" has {arena_bytes} (arena_bytes in targets.toml)")]
    Arena {
        job: String,
        needed_bytes: u64,
        board: String,
        arena_bytes: u32,
    },
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("{} has no row {row}", .path.display())]
    NoRow { path: PathBuf, row: usize },
    #[error("{job}: {source} ({})", .path.display())]
    Input {
        job: String,
        path: PathBuf,
        #[source]
        source: GoldenError,
    },
    #[error("{job}: accuracy mode: {source}")]
    Accuracy {
        job: String,
        #[source]
        source: Box<AccuracyError>,
    },
    #[error("board \"{board}\" has no model region")]
    NoModelRegion { board: String },
    // protocol's PartitionError is no_std and not a std::error::Error: it is kept as a value,
    // not as a source.
    #[error("{job} does not fit board \"{board}\": {reason}")]
    DoesNotFit {
        job: String,
        board: String,
        reason: PartitionError,
    },
    #[error("{0}")]
    Partition(PartitionError),
}

/// Why the firmware's `@op` records are not the model's operators.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpProfileError {
    #[error("the firmware profiled {profiled} operators but the model has {operators}")]
    Count { profiled: usize, operators: usize },
    #[error("@op index={index} code={code} is not operator {position} of the model ({name}, code {expected_code})")]
    NotTheOperator {
        index: u32,
        code: u32,
        position: usize,
        name: String,
        expected_code: i32,
    },
}

/// The operators of `model`, in execution order.
pub fn op_infos(model: &Model) -> Result<Vec<OpInfo>, engine::Error> {
    (0..model.operator_count())
        .map(|i| {
            let summary = engine::summary::op_summary(model, i)?;
            let output_shape = match model.operator(i)?.output(0) {
                Some(t) => model.tensor(t)?.shape.dims().to_vec(),
                None => Vec::new(),
            };
            Ok(OpInfo {
                code: summary.code,
                name: summary.name.to_owned(),
                output_shape,
                macs: summary.macs,
            })
        })
        .collect()
}

/// The firmware's `@op` records joined with the host's view of the operators: one per
/// operator, in order, each with the code the host expects; else why not.
pub fn op_profile(ops: &[OpInfo], measured: &[OpCycles]) -> Result<Vec<OpProfile>, OpProfileError> {
    if measured.is_empty() {
        return Ok(Vec::new());
    }
    if measured.len() != ops.len() {
        return Err(OpProfileError::Count {
            profiled: measured.len(),
            operators: ops.len(),
        });
    }
    measured
        .iter()
        .zip(ops)
        .enumerate()
        .map(|(i, (m, op))| {
            if m.index as usize != i || i64::from(m.code) != i64::from(op.code) {
                return Err(OpProfileError::NotTheOperator {
                    index: m.index,
                    code: m.code,
                    position: i,
                    name: op.name.clone(),
                    expected_code: op.code,
                });
            }
            Ok(OpProfile {
                index: m.index,
                name: op.name.clone(),
                output_shape: op.output_shape.clone(),
                macs: op.macs,
                cycles: m.cycles,
            })
        })
        .collect()
}

/// Everything about the job that can be checked before any build: the model parses, every
/// operator has a kernel, the arena fits the board, the partition fits its region. `Err` is the
/// reason to reject the job.
pub fn prepare(
    board: &Board,
    workload: &Workload,
    variant: &ModelVariant,
    settings: &RunSettings,
) -> Result<PreparedJob, JobError> {
    let key = JobKey {
        board: board.name.clone(),
        workload: workload.name.clone(),
        variant: variant.variant,
    };
    let model_file = AlignedModel::read(&variant.model).map_err(|source| JobError::ReadModel {
        path: variant.model.clone(),
        source,
    })?;
    let bytes = model_file.bytes();
    let name = format!("{}/{}", workload.name, variant.variant);
    let model = Model::parse(&name, bytes)?;
    let ops = op_infos(&model)?;
    let layout = Interpreter::arena_bytes(&model)?;
    let arena_needed = (layout.total_bytes() + engine::ARENA_ALIGN) as u64;
    if arena_needed > u64::from(board.arena_bytes) {
        return Err(JobError::Arena {
            job: name,
            needed_bytes: arena_needed,
            board: board.name.clone(),
            arena_bytes: board.arena_bytes,
        });
    }
    let input_info = model.input_tensor(0).and_then(|t| model.tensor(t))?;
    let output_info = model.output_tensor(0).and_then(|t| model.tensor(t))?;

    let inputs = Array::read(&workload.test_inputs)?;
    let golden = Array::read(&variant.golden)?;
    let sample = settings.sample;
    let raw_input = inputs.row(sample).ok_or_else(|| JobError::NoRow {
        path: workload.test_inputs.clone(),
        row: sample,
    })?;
    let input =
        tensor_input(raw_input, inputs.elem, &input_info).map_err(|source| JobError::Input {
            job: name.clone(),
            path: workload.test_inputs.clone(),
            source,
        })?;
    let test = match settings.accuracy {
        Some(limit) => TestSet::load(workload, &variant.model, &model, limit)
            .map_err(|source| JobError::Accuracy {
                job: name.clone(),
                source: Box::new(source),
            })?
            .map(Arc::new),
        None => None,
    };
    let expected = golden
        .row(sample)
        .ok_or_else(|| JobError::NoRow {
            path: variant.golden.clone(),
            row: sample,
        })?
        .to_vec();
    let region = board
        .model_partition()
        .ok_or_else(|| JobError::NoModelRegion {
            board: board.name.clone(),
        })?;
    let mut header = Header::layout(
        bytes.len(),
        input.len(),
        expected.len(),
        region.size as usize,
    )
    .map_err(|reason| JobError::DoesNotFit {
        job: name.clone(),
        board: board.name.clone(),
        reason,
    })?;
    header.warmup_runs = settings.warmup_runs;
    header.timed_runs = settings.timed_runs;
    if test.is_some() {
        header.flags = FLAG_ACCURACY;
    }
    let mut partition = vec![0u8; header.total_bytes as usize];
    header
        .write(&mut partition, bytes, &input, &expected)
        .map_err(JobError::Partition)?;
    Ok(PreparedJob {
        key,
        partition,
        model_bytes: bytes.len() as u64,
        expected,
        output_type: output_info.dtype,
        arena_needed,
        test,
        ops,
    })
}

/// Runs a prepared job on a board through `deployer` (a virtual board, or a real one).
pub fn execute(
    board: &Board,
    deployer: &dyn Deployer,
    elf: &[u8],
    firmware: &FirmwareSize,
    job: &PreparedJob,
    settings: &RunSettings,
    cancel: &AtomicBool,
) -> (JobResult, Vec<u8>, bool) {
    let started = Instant::now();
    let mut result = JobResult {
        key: job.key.clone(),
        status: JobStatus::Failed,
        failure: None,
        deploy: deployer.label(),
        cycle_model: deployer.cycle_model(),
        clock_hz: board.clock_hz,
        latency: None,
        flash: None,
        ram: None,
        energy: None,
        correct: None,
        accuracy: None,
        ops: Vec::new(),
        attempts: 1,
        duration_s: 0.0,
    };
    let mut feed = job.test.as_deref().map(Feed::new);
    let samples = job.test.as_ref().map_or(0, |t| t.len());
    // Inputs go out once the firmware says it listens, as a real board's UART drops what
    // arrives before it is set up.
    let mut input = |m: &Measurements, room: usize| match feed.as_mut() {
        Some(feed) if m.meta("accuracy") == Some("streaming") => feed.take(room),
        _ => Vec::new(),
    };
    let limits = settings.limits_with(samples);
    let run = match deployer.run(DeviceJob {
        board,
        elf,
        partition: &job.partition,
        limits,
        cancel,
        input: &mut input,
    }) {
        Ok(run) => run,
        Err(e) => {
            result.duration_s = started.elapsed().as_secs_f64();
            result.failure = Some(e.reason);
            return (result, Vec::new(), e.transient);
        }
    };
    result.duration_s = started.elapsed().as_secs_f64();
    let m = &run.stream.measurements;
    fill_measurements(&mut result, board, firmware, job, m);
    if let (Some(measured), Some(_)) = (&run.measured_energy, &result.latency) {
        result.energy = Some(Energy {
            energy_uj: measured.energy_uj_per_inference,
            estimated: false,
            method: measured.method.clone(),
        });
    }
    let outcome = match &run.end {
        End::Done => match m.checked_output() {
            // A wrong output is a correctness failure; bytes lost on the way are not.
            Ok(out) => check_output(out, &job.expected, job.output_type)
                .inspect_err(|_| result.correct = Some(false))
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    op_profile(&job.ops, &m.ops)
                        .map(|ops| result.ops = ops)
                        .map_err(|e| e.to_string())
                })
                .and_then(|()| match &job.test {
                    Some(test) => test
                        .evaluate(&m.samples)
                        .map(|accuracy| result.accuracy = Some(accuracy))
                        .map_err(|e| e.to_string()),
                    None => Ok(()),
                }),
            Err(e) => Err(e.to_string()),
        },
        End::FirmwareError(reason) => Err(format!("the firmware reported: {reason}")),
        End::Malformed(line) => Err(line.clone()),
        End::Exit(code) => Err(format!("the firmware exited (code {code}) without @done")),
        End::Stopped(why) | End::TimedOut(why) => Err(why.clone()),
    };
    let transient = matches!(run.end, End::TimedOut(_));
    match outcome {
        Ok(()) => {
            result.correct = Some(true);
            result.status = JobStatus::Ok;
        }
        Err(reason) => result.failure = Some(reason),
    }
    if result.status == JobStatus::Failed {
        // A failed job is never a number in a table.
        result.latency = None;
        result.energy = None;
        result.ops.clear();
    }
    (result, run.stream.log, transient)
}

fn fill_measurements(
    result: &mut JobResult,
    board: &Board,
    firmware: &FirmwareSize,
    job: &PreparedJob,
    m: &Measurements,
) {
    result.latency = Latency::from_cycles(&m.cycles, board.clock_hz);
    let partition_bytes = job.partition.len() as u64;
    result.flash = Some(Flash {
        firmware_bytes: firmware.flash_used_bytes,
        model_bytes: job.model_bytes,
        partition_bytes,
        total_bytes: firmware.flash_used_bytes + partition_bytes,
    });
    if let (Some((stack_used, _)), Some((arena_used, arena_size))) = (m.stack, m.arena) {
        // The arena is a static in .bss: count what the model used of it, not the reserve.
        let bss_other = firmware.bss_bytes.saturating_sub(u64::from(arena_size));
        result.ram = Some(Ram {
            data_bytes: firmware.data_bytes,
            bss_bytes: bss_other,
            stack_peak_bytes: u64::from(stack_used),
            arena_bytes: u64::from(arena_used),
            peak_bytes: firmware.data_bytes
                + bss_other
                + u64::from(stack_used)
                + u64::from(arena_used),
        });
    }
    if let Some(latency) = &result.latency {
        let current_ma = board.energy.run_current_ma(board.clock_hz);
        // mW x ms = uJ.
        let energy_uj = board.energy.voltage_v * current_ma * latency.ms_median;
        result.energy = Some(Energy {
            energy_uj,
            estimated: true,
            method: format!(
                "estimated: {} V x {current_ma:.2} mA x latency ({})",
                board.energy.voltage_v, board.energy.source
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(code: i32, name: &str) -> OpInfo {
        OpInfo {
            code,
            name: name.into(),
            output_shape: vec![1, 10],
            macs: 640,
        }
    }

    fn cycles(index: u32, code: u32, cycles: u64) -> OpCycles {
        OpCycles {
            index,
            code,
            cycles,
        }
    }

    #[test]
    fn op_records_are_joined_with_the_models_operators_or_refused() {
        let model = [op(3, "CONV_2D"), op(25, "SOFTMAX")];
        let ops = op_profile(&model, &[cycles(0, 3, 900), cycles(1, 25, 100)]).unwrap();
        assert_eq!(
            ops[1],
            OpProfile {
                index: 1,
                name: "SOFTMAX".into(),
                output_shape: vec![1, 10],
                macs: 640,
                cycles: 100,
            }
        );
        // A firmware that does not profile (protocol 1) gives no profile, and no error.
        assert_eq!(op_profile(&model, &[]), Ok(Vec::new()));
        assert_eq!(
            op_profile(&model, &[cycles(0, 3, 900)])
                .unwrap_err()
                .to_string(),
            "the firmware profiled 1 operators but the model has 2"
        );
        assert_eq!(
            op_profile(&model, &[cycles(0, 3, 900), cycles(1, 9, 100)])
                .unwrap_err()
                .to_string(),
            "@op index=1 code=9 is not operator 1 of the model (SOFTMAX, code 25)"
        );
        assert!(op_profile(&model, &[cycles(1, 25, 1), cycles(0, 3, 1)]).is_err());
    }
}
