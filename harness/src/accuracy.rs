//! Accuracy mode (`mcubench run --accuracy`): the workload's test set streamed to the device
//! after the timed runs, one inference per input, and the workload's metric (top-1 accuracy or
//! the AUC of an anomaly score) computed from what the device answered, next to the same metric
//! of the host reference (the engine on the host, the same inputs) and the agreement of the two.
//!
//! The conversation (see `protocol`): the host writes each input as `@data` lines followed by
//! `@infer index=<n>`, then `@end`; the device answers each `@infer` with `@sample` and the
//! output's `@data`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::{Interpreter, Model, TensorType};

use crate::golden::{check_output, tensor_input, GoldenError};
use crate::model_file::AlignedModel;
use crate::npy::{Array, NpyError};
use crate::results::Accuracy;
use crate::stream::{OutputError, SampleOutput};
use crate::workloads::{Metric, Workload};

/// Why a test set cannot be streamed or scored: what failed, and the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum AccuracyError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    /// The model's tensors, or the host reference's engine.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    #[error("{inputs} has {input_rows} rows but {labels} has {label_rows}: one label per test input", inputs = .inputs.display(), labels = .labels.display())]
    RowCounts {
        inputs: PathBuf,
        input_rows: usize,
        labels: PathBuf,
        label_rows: usize,
    },
    /// A test input that does not fit the model's input tensor (the model's name is in the
    /// source).
    #[error("{}: {source}", .path.display())]
    Input {
        path: PathBuf,
        #[source]
        source: GoldenError,
    },
    #[error("cannot read {}: {source}", .path.display())]
    ReadModel {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("accuracy mode: the firmware answered {answered} of {inputs} inputs")]
    Unanswered { answered: usize, inputs: usize },
    #[error("accuracy mode: answer {answer} is for input {input} (out of order)")]
    OutOfOrder { answer: usize, input: u32 },
    #[error(transparent)]
    Sample(#[from] OutputError),
    #[error(transparent)]
    Metric(#[from] AucError),
}

/// Why the AUC of a set of scores is not defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AucError {
    #[error("AUC needs both classes among the samples ({positives} positive, {negatives} negative): stream more samples")]
    OneClass { positives: usize, negatives: usize },
    #[error("an anomaly score is NaN")]
    NanScore,
}

/// The part of a workload's test set a job streams, as the model's input tensor takes it.
#[derive(Debug, Clone)]
pub struct TestSet {
    pub metric: Metric,
    /// The model file, for the host reference.
    pub model: PathBuf,
    /// Input tensor bytes per sample (quantized for an int8 input).
    pub inputs: Vec<Vec<u8>>,
    /// The test inputs as floats (the anomaly score compares the output with them).
    pub float_inputs: Vec<Vec<f32>>,
    pub labels: Vec<i64>,
    pub output_type: TensorType,
    pub output_scale: f32,
    pub output_zero_point: i32,
}

impl TestSet {
    /// The first `limit` samples of the workload's test set for `model` (its input and output
    /// tensors say how inputs are quantized and outputs read). `Ok(None)` when the workload
    /// has no labels, so no metric.
    pub fn load(
        workload: &Workload,
        model_path: &Path,
        model: &Model,
        limit: usize,
    ) -> Result<Option<TestSet>, AccuracyError> {
        let Some(labels_path) = &workload.test_labels else {
            return Ok(None);
        };
        let inputs = Array::read(&workload.test_inputs)?;
        let labels = Array::read(labels_path)?;
        let input_info = model.input_tensor(0).and_then(|t| model.tensor(t))?;
        let output_info = model.output_tensor(0).and_then(|t| model.tensor(t))?;
        let n = inputs.rows().min(labels.rows()).min(limit);
        if inputs.rows() != labels.rows() {
            return Err(AccuracyError::RowCounts {
                inputs: workload.test_inputs.clone(),
                input_rows: inputs.rows(),
                labels: labels_path.clone(),
                label_rows: labels.rows(),
            });
        }
        let floats = inputs.to_f64();
        let row_len = floats.len() / inputs.rows().max(1);
        let mut set = TestSet {
            metric: workload.metric,
            model: model_path.to_owned(),
            inputs: Vec::with_capacity(n),
            float_inputs: Vec::with_capacity(n),
            labels: labels.to_f64().iter().take(n).map(|&l| l as i64).collect(),
            output_type: output_info.dtype,
            output_scale: output_info.scale,
            output_zero_point: output_info.zero_point,
        };
        for k in 0..n {
            let raw = inputs.row(k).unwrap_or(&[]);
            let input = tensor_input(raw, inputs.elem, &input_info).map_err(|source| {
                AccuracyError::Input {
                    path: workload.test_inputs.clone(),
                    source,
                }
            })?;
            set.inputs.push(input);
            set.float_inputs.push(
                floats[k * row_len..(k + 1) * row_len]
                    .iter()
                    .map(|&x| x as f32)
                    .collect(),
            );
        }
        Ok(Some(set))
    }

    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The output tensor's values as floats (int8 dequantized).
    fn values(&self, output: &[u8]) -> Vec<f32> {
        match self.output_type {
            TensorType::Float32 => output
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            _ => output
                .iter()
                .map(|&b| (i32::from(b as i8) - self.output_zero_point) as f32 * self.output_scale)
                .collect(),
        }
    }

    /// The workload's metric over `outputs` (one per sample, in order).
    pub fn metric(&self, outputs: &[Vec<u8>]) -> Result<f64, AucError> {
        match self.metric {
            Metric::Top1 => {
                let hits = outputs
                    .iter()
                    .zip(&self.labels)
                    .filter(|(out, &label)| argmax(&self.values(out)) == Some(label as usize))
                    .count();
                Ok(hits as f64 / outputs.len().max(1) as f64)
            }
            Metric::Auc => {
                // The anomaly score: mean squared reconstruction error against the float input.
                let scores: Vec<f64> = outputs
                    .iter()
                    .zip(&self.float_inputs)
                    .map(|(out, x)| {
                        let y = self.values(out);
                        let n = y.len().min(x.len()).max(1);
                        y.iter()
                            .zip(x)
                            .map(|(a, b)| f64::from(a - b).powi(2))
                            .sum::<f64>()
                            / n as f64
                    })
                    .collect();
                auc(
                    &scores,
                    &self.labels[..outputs.len().min(self.labels.len())],
                )
            }
        }
    }

    /// The host reference: the engine on the host, each sample's output.
    pub fn host_outputs(&self) -> Result<Vec<Vec<u8>>, AccuracyError> {
        let file = AlignedModel::read(&self.model).map_err(|source| AccuracyError::ReadModel {
            path: self.model.clone(),
            source,
        })?;
        let model = Model::parse("host reference", file.bytes())?;
        let needed = Interpreter::arena_bytes(&model)?.total_bytes() + engine::ARENA_ALIGN;
        let mut arena = vec![0u8; needed];
        let mut interp = Interpreter::new(&model, &mut arena)?;
        let mut outputs = Vec::with_capacity(self.len());
        for input in &self.inputs {
            let run = |interp: &mut Interpreter| -> Result<Vec<u8>, engine::Error> {
                interp.input_bytes_mut(0)?.copy_from_slice(input);
                interp.invoke()?;
                Ok(interp.output_bytes(0)?.to_vec())
            };
            outputs.push(run(&mut interp)?);
        }
        Ok(outputs)
    }

    /// The device's samples checked (every input answered, in order, intact) and scored
    /// against the host reference.
    pub fn evaluate(&self, samples: &[SampleOutput]) -> Result<Accuracy, AccuracyError> {
        if samples.len() != self.len() {
            return Err(AccuracyError::Unanswered {
                answered: samples.len(),
                inputs: self.len(),
            });
        }
        let mut device = Vec::with_capacity(samples.len());
        for (k, s) in samples.iter().enumerate() {
            if s.index as usize != k {
                return Err(AccuracyError::OutOfOrder {
                    answer: k,
                    input: s.index,
                });
            }
            device.push(s.checked()?.to_vec());
        }
        let host = self.host_outputs()?;
        let agreeing = device
            .iter()
            .zip(&host)
            .filter(|(d, h)| check_output(d, h, self.output_type).is_ok())
            .count();
        Ok(Accuracy {
            metric: self.metric.name().to_owned(),
            device: self.metric(&device)?,
            host: self.metric(&host)?,
            agreement: agreeing as f64 / self.len().max(1) as f64,
            samples: self.len() as u32,
        })
    }
}

/// Index of the largest value, the first of equal ones (numpy's argmax); None if empty or NaN.
fn argmax(values: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            return None;
        }
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Area under the ROC curve of `scores` for `labels` (1 = positive): the Mann-Whitney
/// statistic with tied scores sharing their average rank, as scikit-learn's roc_auc_score.
pub fn auc(scores: &[f64], labels: &[i64]) -> Result<f64, AucError> {
    let positives = labels.iter().filter(|&&l| l == 1).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(AucError::OneClass {
            positives,
            negatives,
        });
    }
    if scores.iter().any(|s| s.is_nan()) {
        return Err(AucError::NanScore);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their average.
        let rank = (i + j + 2) as f64 / 2.0;
        rank_sum += rank * order[i..=j].iter().filter(|&&k| labels[k] == 1).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    Ok((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// The host's side of the stream: the bytes to send, produced as the transport has room.
#[derive(Debug)]
pub struct Feed<'a> {
    test: &'a TestSet,
    next: usize,
    pending: Vec<u8>,
    sent: usize,
}

impl<'a> Feed<'a> {
    pub fn new(test: &'a TestSet) -> Feed<'a> {
        Feed {
            test,
            next: 0,
            pending: Vec::new(),
            sent: 0,
        }
    }

    /// Up to `room` bytes to send next (empty once `@end` has gone).
    pub fn take(&mut self, room: usize) -> Vec<u8> {
        if self.sent == self.pending.len() {
            self.pending.clear();
            self.sent = 0;
            if self.next < self.test.len() {
                let mut text = String::new();
                // Writing to a String cannot fail, and the records are well formed.
                let _ = protocol::write_data(&mut text, 0, &self.test.inputs[self.next]);
                let _ = writeln!(text, "@infer index={}", self.next);
                self.pending = text.into_bytes();
                self.next += 1;
            } else if self.next == self.test.len() {
                self.pending = b"@end\n".to_vec();
                self.next += 1;
            }
        }
        let n = room.min(self.pending.len() - self.sent);
        let out = self.pending[self.sent..self.sent + n].to_vec();
        self.sent += n;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_scikit_learn_with_ties() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]), Ok(0.75));
        // roc_auc_score([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]) == 0.875 (a tie counts one half)
        assert_eq!(auc(&[0.5, 0.5, 0.2, 0.9], &[0, 1, 0, 1]), Ok(0.875));
        assert_eq!(auc(&[1.0, 2.0], &[0, 1]), Ok(1.0));
        assert_eq!(auc(&[2.0, 1.0], &[0, 1]), Ok(0.0));
        let e = auc(&[1.0, 2.0], &[1, 1]).unwrap_err();
        assert_eq!(
            e,
            AucError::OneClass {
                positives: 2,
                negatives: 0
            }
        );
        assert!(e.to_string().contains("both classes"), "{e}");
        assert_eq!(auc(&[f64::NAN, 1.0], &[0, 1]), Err(AucError::NanScore));
    }

    #[test]
    fn argmax_takes_the_first_of_equal_values() {
        assert_eq!(argmax(&[0.0, 3.0, 3.0, 1.0]), Some(1));
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[0.0, f32::NAN]), None);
    }

    fn set(inputs: Vec<Vec<u8>>) -> TestSet {
        TestSet {
            metric: Metric::Top1,
            model: PathBuf::new(),
            float_inputs: vec![Vec::new(); inputs.len()],
            labels: vec![0; inputs.len()],
            inputs,
            output_type: TensorType::Int8,
            output_scale: 1.0 / 256.0,
            output_zero_point: -128,
        }
    }

    #[test]
    fn the_feed_sends_each_input_then_infer_then_end_in_pieces() {
        let test = set(vec![vec![1u8; 40], vec![2u8; 3]]);
        let mut feed = Feed::new(&test);
        let mut sent = Vec::new();
        loop {
            let piece = feed.take(7);
            if piece.is_empty() {
                break;
            }
            assert!(piece.len() <= 7);
            sent.extend(piece);
        }
        let text = String::from_utf8(sent).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                format!("@data offset=0 hex={}", "01".repeat(32)).as_str(),
                format!("@data offset=32 hex={}", "01".repeat(8)).as_str(),
                "@infer index=0",
                "@data offset=0 hex=020202",
                "@infer index=1",
                "@end",
            ]
        );
        for line in lines {
            assert!(protocol::parse_line(line.as_bytes()).unwrap().is_some());
        }
    }

    #[test]
    fn missing_or_reordered_answers_are_refused_before_scoring() {
        let test = set(vec![vec![0u8; 3]; 2]);
        let answer = |index: u32| SampleOutput {
            index,
            ..SampleOutput::default()
        };
        let e = test.evaluate(&[answer(0)]).unwrap_err();
        assert!(
            matches!(
                e,
                AccuracyError::Unanswered {
                    answered: 1,
                    inputs: 2
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "accuracy mode: the firmware answered 1 of 2 inputs"
        );
        let e = test.evaluate(&[answer(1), answer(0)]).unwrap_err();
        assert!(
            matches!(
                e,
                AccuracyError::OutOfOrder {
                    answer: 0,
                    input: 1
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "accuracy mode: answer 0 is for input 1 (out of order)"
        );
    }

    #[test]
    fn top1_dequantizes_int8_outputs() {
        let mut test = set(vec![Vec::new(); 3]);
        test.labels = vec![1, 0, 2];
        let out = |v: [i8; 3]| v.iter().map(|&x| x as u8).collect::<Vec<u8>>();
        let outputs = [out([-128, 100, 0]), out([5, 5, -1]), out([0, 1, 2])];
        assert_eq!(test.metric(&outputs), Ok(1.0));
        test.labels = vec![0, 0, 0];
        assert!((test.metric(&outputs).unwrap() - 1.0 / 3.0).abs() < 1e-12);
    }
}
