//! Measured energy: a meter samples the board's supply current while the firmware holds a GPIO
//! high around its timed runs; the energy of one inference is the integral of V x I over that
//! gated window divided by the number of timed runs. A board without a meter keeps the
//! estimate of targets.toml's energy model, labelled estimated (see `job`). The back end that
//! drives a meter around a job is `deploy::metered`.

pub mod ppk2;

/// One sample of a meter: the current, and its digital inputs (bit n = input Dn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub current_a: f64,
    pub logic: u8,
}

/// A current meter that records while the board runs.
pub trait Meter: Send {
    /// Model, serial or port, and source voltage, for the manifest and each result.
    fn identity(&self) -> String;
    fn start(&mut self) -> Result<(), MeterError>;
    /// Stops and returns the samples since `start`.
    fn stop(&mut self) -> Result<Vec<Sample>, MeterError>;
}

/// Why a meter could not start or stop a capture, in the meter's own words.
#[derive(Debug, thiserror::Error)]
pub enum MeterError {
    #[error(transparent)]
    Ppk2(#[from] ppk2::Ppk2Error),
}

/// The energy in a gated window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gated {
    pub energy_uj: f64,
    pub window_s: f64,
    pub samples: usize,
}

/// Why a capture holds no gated window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error(
        "the gate input D{input} never went high in {samples} samples: check the wire from the board's gate GPIO to the meter's D{input}, and the common ground"
    )]
    NeverHigh { input: u8, samples: usize },
    #[error(
        "the gate input D{input} was still high when the capture ended: the timed runs outlasted the capture"
    )]
    StillHigh { input: u8 },
}

/// Integrates V x I over the samples while digital input `input` is high (the first such
/// window), at `sample_rate_hz`.
pub fn gated_energy(
    samples: &[Sample],
    input: u8,
    voltage_v: f64,
    sample_rate_hz: f64,
) -> Result<Gated, GateError> {
    let bit = 1u8 << (input & 7);
    let Some(start) = samples.iter().position(|s| s.logic & bit != 0) else {
        return Err(GateError::NeverHigh {
            input,
            samples: samples.len(),
        });
    };
    let len = samples[start..]
        .iter()
        .position(|s| s.logic & bit == 0)
        .ok_or(GateError::StillHigh { input })?;
    let window = &samples[start..start + len];
    let dt = 1.0 / sample_rate_hz;
    let joules: f64 = window.iter().map(|s| voltage_v * s.current_a * dt).sum();
    Ok(Gated {
        energy_uj: joules * 1e6,
        window_s: len as f64 * dt,
        samples: len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(samples: &mut Vec<Sample>, n: usize, current_a: f64, logic: u8) {
        samples.extend(std::iter::repeat_n(Sample { current_a, logic }, n));
    }

    #[test]
    fn only_the_gated_window_counts() {
        let mut s = Vec::new();
        // 5 ms idle at 1 mA, 20 ms of runs at 10 mA with D2 high, 5 ms idle.
        stream(&mut s, 500, 1e-3, 0);
        stream(&mut s, 2000, 10e-3, 0b100);
        stream(&mut s, 500, 1e-3, 0);
        let g = gated_energy(&s, 2, 3.3, 100_000.0).unwrap();
        assert_eq!(g.samples, 2000);
        assert!((g.window_s - 0.02).abs() < 1e-12);
        // 3.3 V x 10 mA x 20 ms = 660 uJ.
        assert!((g.energy_uj - 660.0).abs() < 1e-9, "{}", g.energy_uj);
    }

    #[test]
    fn a_gate_that_never_rises_or_never_falls_is_named() {
        let mut s = Vec::new();
        stream(&mut s, 100, 1e-3, 0);
        let e = gated_energy(&s, 0, 3.3, 100_000.0).unwrap_err();
        assert_eq!(
            e,
            GateError::NeverHigh {
                input: 0,
                samples: 100
            }
        );
        let e = e.to_string();
        assert!(
            e.contains("D0 never went high in 100 samples") && e.contains("ground"),
            "{e}"
        );
        stream(&mut s, 100, 1e-3, 1);
        let e = gated_energy(&s, 0, 3.3, 100_000.0).unwrap_err();
        assert_eq!(e, GateError::StillHigh { input: 0 });
        assert!(e.to_string().contains("D0 was still high"), "{e}");
    }
}
