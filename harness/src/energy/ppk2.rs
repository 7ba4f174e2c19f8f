//! The Nordic Power Profiler Kit II over its USB serial port, from the protocol as Nordic's
//! nRF Connect Power Profiler and IRNAS' ppk2-api-python drive it.
//!
//! Commands are raw bytes: GET_META_DATA (0x19) answers with text lines `key: value` (the
//! calibration of the five current ranges: R0..R4 shunt resistances, GS/GI/O/S/I/UG gains and
//! offsets) ending in `END`; SET_POWER_MODE (0x11) 2 = source meter; REGULATOR_SET (0x0d) sets
//! the source voltage; DEVICE_RUNNING_SET (0x0c) 1 powers the board; AVERAGE_START (0x06) /
//! AVERAGE_STOP (0x07) start and stop the stream of samples, 100 000 a second.
//!
//! A sample is 4 bytes, little endian: bits 0-13 the ADC value, 14-16 the current range, 18-23
//! a counter, 24-31 the eight digital inputs D0-D7.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Meter, MeterError, Sample};

pub const AVERAGE_START: u8 = 0x06;
pub const AVERAGE_STOP: u8 = 0x07;
pub const DEVICE_RUNNING_SET: u8 = 0x0c;
pub const REGULATOR_SET: u8 = 0x0d;
pub const SET_POWER_MODE: u8 = 0x11;
pub const GET_META_DATA: u8 = 0x19;
/// SET_POWER_MODE's argument for source-meter mode (the PPK2 supplies the board).
pub const SOURCE_MODE: u8 = 2;
/// Samples a second.
pub const SAMPLE_RATE_HZ: f64 = 100_000.0;
/// The source voltage range of the PPK2.
pub const VDD_MIN_MV: u32 = 800;
pub const VDD_MAX_MV: u32 = 5000;
/// The ADC's volts per count (1.8 V reference over 163840), as the Power Profiler computes.
const ADC_MULT: f64 = 1.8 / 163_840.0;

/// Why the PPK2's metadata text is not a calibration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalibrationError {
    #[error("the PPK2 metadata has no END: the port is not a PPK2, or the answer was cut")]
    NoEnd,
    #[error("PPK2 metadata line {line:?}: not a number")]
    NotANumber {
        line: String,
        #[source]
        source: std::num::ParseFloatError,
    },
}

/// What went wrong driving a PPK2, with its port.
#[derive(Debug, thiserror::Error)]
pub enum Ppk2Error {
    #[error("cannot open the PPK2 on {port}: {source}; `mcubench doctor` lists the serial ports")]
    Open {
        port: String,
        #[source]
        source: serialport::Error,
    },
    #[error("PPK2 on {port}: {source}; check its USB cable, and that no other program (nRF Connect's Power Profiler) holds the port")]
    Io {
        port: String,
        #[source]
        source: io::Error,
    },
    /// The port would not give a second handle for the reader thread.
    #[error("PPK2 on {port}: {source}; check its USB cable, and that no other program (nRF Connect's Power Profiler) holds the port")]
    Port {
        port: String,
        #[source]
        source: serialport::Error,
    },
    #[error("{port}: {source}")]
    Metadata {
        port: String,
        #[source]
        source: CalibrationError,
    },
    #[error("the PPK2 capture was not started")]
    NotStarted,
    #[error("the PPK2 reader thread failed")]
    ReaderFailed,
}

/// The per-range calibration the PPK2 reports in its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub r: [f64; 5],
    pub gs: [f64; 5],
    pub gi: [f64; 5],
    pub o: [f64; 5],
    pub s: [f64; 5],
    pub i: [f64; 5],
    pub ug: [f64; 5],
    /// The metadata's HW and IA entries, for the meter's identity.
    pub hardware: Option<String>,
}

impl Default for Calibration {
    /// Nominal shunts, unit gains: what an uncalibrated PPK2 uses.
    fn default() -> Self {
        Calibration {
            r: [1031.64, 101.65, 10.15, 0.94, 0.043],
            gs: [1.0; 5],
            gi: [1.0; 5],
            o: [0.0; 5],
            s: [0.0; 5],
            i: [0.0; 5],
            ug: [1.0; 5],
            hardware: None,
        }
    }
}

impl Calibration {
    /// Parses the metadata text (up to `END`); unknown keys are ignored, a bad number is an
    /// error naming the line.
    pub fn parse(metadata: &str) -> Result<Calibration, CalibrationError> {
        let Some(end) = metadata.find("END") else {
            return Err(CalibrationError::NoEnd);
        };
        let mut cal = Calibration::default();
        for line in metadata[..end].lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if key == "HW" {
                cal.hardware = Some(value.to_owned());
                continue;
            }
            let split = key.find(|c: char| c.is_ascii_digit());
            let Some((name, index)) = split.map(|i| key.split_at(i)) else {
                continue;
            };
            let Ok(index) = index.parse::<usize>() else {
                continue;
            };
            let table = match name {
                "R" => &mut cal.r,
                "GS" => &mut cal.gs,
                "GI" => &mut cal.gi,
                "O" => &mut cal.o,
                "S" => &mut cal.s,
                "I" => &mut cal.i,
                "UG" => &mut cal.ug,
                _ => continue,
            };
            if index >= 5 {
                continue;
            }
            let x: f64 = value
                .parse()
                .map_err(|source| CalibrationError::NotANumber {
                    line: line.to_owned(),
                    source,
                })?;
            // Some PPK2s report a zero shunt: keep the nominal one.
            if name == "R" && x == 0.0 {
                continue;
            }
            table[index] = x;
        }
        Ok(cal)
    }

    /// Amperes of one raw sample at source voltage `vdd_mv`.
    pub fn current_a(&self, raw: u32, vdd_mv: u32) -> f64 {
        let range = (((raw >> 14) & 0x7) as usize).min(4);
        let adc = f64::from(raw & 0x3fff) * 4.0;
        let x = (adc - self.o[range]) * (ADC_MULT / self.r[range]);
        self.ug[range]
            * (x * (self.gs[range] * x + self.gi[range])
                + (self.s[range] * f64::from(vdd_mv) / 1000.0 + self.i[range]))
    }
}

/// REGULATOR_SET with its two argument bytes for `mv` (clamped to 800..5000 mV): the
/// regulator's code is mV - 800 + 32, sent as (3 + code / 256, code % 256).
pub fn source_voltage_command(mv: u32) -> [u8; 3] {
    let code = mv.clamp(VDD_MIN_MV, VDD_MAX_MV) - VDD_MIN_MV + 32;
    [REGULATOR_SET, 3 + (code / 256) as u8, (code % 256) as u8]
}

/// Turns the byte stream into samples; keeps a partial sample across reads.
#[derive(Debug, Clone)]
pub struct Decoder {
    pub calibration: Calibration,
    pub vdd_mv: u32,
    partial: Vec<u8>,
}

impl Decoder {
    pub fn new(calibration: Calibration, vdd_mv: u32) -> Decoder {
        Decoder {
            calibration,
            vdd_mv,
            partial: Vec::with_capacity(4),
        }
    }

    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Sample>) {
        let mut rest = bytes;
        if !self.partial.is_empty() {
            let take = (4 - self.partial.len()).min(rest.len());
            self.partial.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.partial.len() < 4 {
                return;
            }
            let p = std::mem::take(&mut self.partial);
            out.push(self.sample([p[0], p[1], p[2], p[3]]));
        }
        let mut chunks = rest.chunks_exact(4);
        for c in &mut chunks {
            out.push(self.sample([c[0], c[1], c[2], c[3]]));
        }
        self.partial.extend_from_slice(chunks.remainder());
    }

    fn sample(&self, b: [u8; 4]) -> Sample {
        let raw = u32::from_le_bytes(b);
        Sample {
            current_a: self.calibration.current_a(raw, self.vdd_mv),
            logic: (raw >> 24) as u8,
        }
    }
}

/// A PPK2 on a serial port, in source-meter mode.
pub struct Ppk2 {
    port_name: String,
    /// The USB serial number, when the port is a USB one.
    serial_number: Option<String>,
    port: Box<dyn serialport::SerialPort>,
    calibration: Calibration,
    vdd_mv: u32,
    capture: Option<(Arc<AtomicBool>, JoinHandle<Vec<u8>>)>,
}

impl Ppk2 {
    /// Opens the PPK2, reads its calibration, and powers the board at `voltage_v`.
    pub fn open(port_name: &str, voltage_v: f64) -> Result<Ppk2, Ppk2Error> {
        let mut port = serialport::new(port_name, 9600)
            .timeout(Duration::from_millis(200))
            .open()
            .map_err(|source| Ppk2Error::Open {
                port: port_name.to_owned(),
                source,
            })?;
        let io = |source: io::Error| Ppk2Error::Io {
            port: port_name.to_owned(),
            source,
        };
        port.write_all(&[GET_META_DATA]).map_err(io)?;
        let mut text = Vec::new();
        let mut buf = [0u8; 512];
        for _ in 0..25 {
            match port.read(&mut buf) {
                Ok(n) => text.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) => return Err(io(e)),
            }
            if text.windows(3).any(|w| w == b"END") {
                break;
            }
        }
        let calibration =
            Calibration::parse(&String::from_utf8_lossy(&text)).map_err(|source| {
                Ppk2Error::Metadata {
                    port: port_name.to_owned(),
                    source,
                }
            })?;
        let vdd_mv = (voltage_v * 1000.0).round() as u32;
        port.write_all(&[SET_POWER_MODE, SOURCE_MODE]).map_err(io)?;
        port.write_all(&source_voltage_command(vdd_mv))
            .map_err(io)?;
        port.write_all(&[DEVICE_RUNNING_SET, 1]).map_err(io)?;
        let serial_number = serialport::available_ports()
            .unwrap_or_default()
            .into_iter()
            .find(|p| p.port_name == port_name)
            .and_then(|p| match p.port_type {
                serialport::SerialPortType::UsbPort(u) => u.serial_number,
                _ => None,
            });
        Ok(Ppk2 {
            port_name: port_name.to_owned(),
            serial_number,
            port,
            calibration,
            vdd_mv,
            capture: None,
        })
    }
}

impl Meter for Ppk2 {
    fn identity(&self) -> String {
        format!(
            "Nordic PPK2 serial {} on {} (HW {}), source meter at {} mV",
            self.serial_number.as_deref().unwrap_or("unknown"),
            self.port_name,
            self.calibration
                .hardware
                .as_deref()
                .unwrap_or("not reported"),
            self.vdd_mv
        )
    }

    fn start(&mut self) -> Result<(), MeterError> {
        let mut reader = self.port.try_clone().map_err(|source| Ppk2Error::Port {
            port: self.port_name.clone(),
            source,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_reader = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 4096];
            while !stop_reader.load(Ordering::Relaxed) {
                match reader.read(&mut buf) {
                    Ok(n) => all.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                    Err(_) => break,
                }
            }
            all
        });
        self.port
            .write_all(&[AVERAGE_START])
            .map_err(|source| Ppk2Error::Io {
                port: self.port_name.clone(),
                source,
            })?;
        self.capture = Some((stop, handle));
        Ok(())
    }

    fn stop(&mut self) -> Result<Vec<Sample>, MeterError> {
        let _ = self.port.write_all(&[AVERAGE_STOP]);
        let Some((stop, handle)) = self.capture.take() else {
            return Err(Ppk2Error::NotStarted.into());
        };
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, Ordering::Relaxed);
        let bytes = handle.join().map_err(|_| Ppk2Error::ReaderFailed)?;
        let mut decoder = Decoder::new(self.calibration.clone(), self.vdd_mv);
        let mut out = Vec::with_capacity(bytes.len() / 4);
        decoder.feed(&bytes, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The metadata text a PPK2 answers GET_META_DATA with (values of a calibrated unit).
    const METADATA: &str = "Calibrated: 1\nR0: 1018.6\nR1: 100.9\nR2: 10.09\nR3: 0.955\nR4: 0.0\nGS0: 0.0001\nGS1: 0.0011\nGS2: 0.0108\nGS3: 0.1101\nGS4: 0.0\nGI0: 1.0\nGI1: 0.99\nGI2: 0.98\nGI3: 0.97\nGI4: 1.0\nO0: 112.0\nO1: 75.0\nO2: 66.0\nO3: 70.0\nO4: 0.0\nS0: 0.0\nS1: 0.0\nS2: 0.0\nS3: 0.0\nS4: 0.0\nI0: 0.0\nI1: 0.0\nI2: 0.0\nI3: 0.0\nI4: 0.0\nUG0: 1.0\nUG1: 1.0\nUG2: 1.0\nUG3: 1.0\nUG4: 1.0\nHW: 9173\nIA: 56\nEND\n";

    #[test]
    fn metadata_gives_the_calibration_and_a_zero_shunt_keeps_the_nominal_one() {
        let cal = Calibration::parse(METADATA).unwrap();
        assert_eq!(cal.r, [1018.6, 100.9, 10.09, 0.955, 0.043]);
        assert_eq!(cal.o[0], 112.0);
        assert_eq!(cal.gi[3], 0.97);
        assert_eq!(cal.hardware.as_deref(), Some("9173"));
        assert_eq!(
            Calibration::parse("R0: 1.0\n").unwrap_err(),
            CalibrationError::NoEnd
        );
        let e = Calibration::parse("R0: abc\nEND").unwrap_err();
        assert!(matches!(e, CalibrationError::NotANumber { .. }), "{e:?}");
        assert!(e.to_string().contains("\"R0: abc\""), "{e}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn source_voltage_bytes_follow_the_regulator_code() {
        assert_eq!(source_voltage_command(800), [0x0d, 3, 32]);
        assert_eq!(
            source_voltage_command(3300),
            [0x0d, 3 + 9, (2532 % 256) as u8]
        );
        assert_eq!(source_voltage_command(100), source_voltage_command(800));
        assert_eq!(source_voltage_command(9000), source_voltage_command(5000));
    }

    #[test]
    fn samples_decode_across_reads_with_range_and_logic() {
        let cal = Calibration::default();
        // Range 1 (R = 101.65 ohm), ADC 10000 (x4 = 40000 counts), D0 high; with GS = GI = 1
        // the gain stage x * (GS x + GI) is x^2 + x.
        let raw: u32 = 10_000 | (1 << 14) | (0b0000_0001 << 24);
        let x = 40_000.0 * (1.8 / 163_840.0) / 101.65;
        assert!((cal.current_a(raw, 3300) - (x * x + x)).abs() < 1e-15);
        let mut d = Decoder::new(cal, 3300);
        let bytes: Vec<u8> = [raw, raw & 0x00ff_ffff]
            .iter()
            .flat_map(|r| r.to_le_bytes())
            .collect();
        let mut out = Vec::new();
        d.feed(&bytes[..3], &mut out);
        assert!(out.is_empty());
        d.feed(&bytes[3..7], &mut out);
        assert_eq!(out.len(), 1);
        d.feed(&bytes[7..], &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].logic, out[1].logic), (1, 0));
        assert_eq!(out[0].current_a, out[1].current_a);
    }
}
