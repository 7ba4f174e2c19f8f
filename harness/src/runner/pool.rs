//! Running a planned matrix's jobs: workers execute them, the main thread hands their events to
//! sinks (the results store, the logs, the progress display), as cargo-nextest does.
//!
//! Overnight safety: a finished job is appended to results.jsonl and fsynced before the next
//! result is taken; a job cut short (Ctrl-C, a crash) leaves no line and is redone on resume.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use super::RunError;
use crate::deploy::Deployer;
use crate::job::{self, PreparedJob, RunSettings};
use crate::results::{JobKey, JobResult, JobStatus};
use crate::size::FirmwareSize;
use crate::targets::Board;

/// What happens during a run, for the sinks.
#[derive(Debug)]
pub enum Event<'a> {
    /// A resumed run: the jobs it has stored, and those left to run.
    Resuming {
        path: &'a Path,
        stored: usize,
        to_run: usize,
    },
    /// A board's firmware is being built (once per board, before any job).
    BuildingFirmware {
        board: &'a str,
    },
    /// A real board's back end is ready: how it is deployed, and the meter that measures it
    /// (`None`: energy is estimated).
    Deploying {
        board: &'a str,
        deploy: &'a str,
        meter: Option<&'a str>,
    },
    /// The jobs start: this many to run.
    Running {
        jobs: usize,
    },
    Started {
        key: &'a JobKey,
        attempt: u32,
    },
    /// A job ended (ok or failed) and is to be stored.
    Finished {
        result: &'a JobResult,
        log: &'a [u8],
    },
    /// A job was cut short by an interrupt: not stored, redone on resume.
    Interrupted {
        key: &'a JobKey,
    },
    /// A job failed in a way that may pass on retry.
    Retrying {
        key: &'a JobKey,
        attempt: u32,
        reason: &'a str,
        wait: Duration,
    },
}

/// Receives the events of a run.
pub trait Sink {
    fn event(&mut self, event: &Event) -> Result<(), RunError>;
}

/// A board's firmware, built and measured once for all its jobs.
pub struct BoardFirmware<'a> {
    pub board: &'a Board,
    /// How jobs reach the board: the emulator, or a real board's back end.
    pub deployer: Arc<dyn Deployer>,
    pub elf: Vec<u8>,
    pub size: FirmwareSize,
}

/// What a worker reports back.
enum Report {
    Started(JobKey, u32),
    Retrying(JobKey, u32, String, Duration),
    Done(Box<JobResult>, Vec<u8>),
    Interrupted(JobKey),
}

/// Runs `jobs` on `workers` threads; every event goes to every sink, in order, on this thread.
/// Returns the results of the jobs that finished.
pub fn run(
    jobs: Vec<PreparedJob>,
    firmware: &HashMap<String, BoardFirmware>,
    settings: &RunSettings,
    workers: usize,
    retries: u32,
    cancel: &AtomicBool,
    sinks: &mut [&mut dyn Sink],
) -> Result<Vec<JobResult>, RunError> {
    let queue = Mutex::new(jobs.into_iter().collect::<VecDeque<_>>());
    let (tx, rx) = mpsc::channel::<Report>();
    let mut finished = Vec::new();
    std::thread::scope(|scope| -> Result<(), RunError> {
        for _ in 0..workers.max(1) {
            let tx = tx.clone();
            let queue = &queue;
            scope.spawn(move || worker(queue, firmware, settings, retries, cancel, &tx));
        }
        drop(tx);
        let mut failure: Option<RunError> = None;
        for report in rx {
            let outcome = (|| -> Result<(), RunError> {
                match report {
                    Report::Started(key, attempt) => {
                        for s in sinks.iter_mut() {
                            s.event(&Event::Started { key: &key, attempt })?;
                        }
                    }
                    Report::Retrying(key, attempt, reason, wait) => {
                        for s in sinks.iter_mut() {
                            s.event(&Event::Retrying {
                                key: &key,
                                attempt,
                                reason: &reason,
                                wait,
                            })?;
                        }
                    }
                    Report::Done(result, log) => {
                        for s in sinks.iter_mut() {
                            s.event(&Event::Finished {
                                result: &result,
                                log: &log,
                            })?;
                        }
                        finished.push(*result);
                    }
                    Report::Interrupted(key) => {
                        for s in sinks.iter_mut() {
                            s.event(&Event::Interrupted { key: &key })?;
                        }
                    }
                }
                Ok(())
            })();
            if let Err(e) = outcome {
                // A sink failed (the disk is full, say): stop taking jobs, keep what is stored.
                cancel.store(true, Ordering::Relaxed);
                failure.get_or_insert(e);
            }
        }
        failure.map_or(Ok(()), Err)
    })?;
    Ok(finished)
}

fn worker(
    queue: &Mutex<VecDeque<PreparedJob>>,
    firmware: &HashMap<String, BoardFirmware>,
    settings: &RunSettings,
    retries: u32,
    cancel: &AtomicBool,
    tx: &mpsc::Sender<Report>,
) {
    loop {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let Some(job) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else {
            return;
        };
        let Some(fw) = firmware.get(&job.key.board) else {
            continue;
        };
        let mut attempt = 1;
        loop {
            let _ = tx.send(Report::Started(job.key.clone(), attempt));
            let (mut result, log, transient) = job::execute(
                fw.board,
                fw.deployer.as_ref(),
                &fw.elf,
                &fw.size,
                &job,
                settings,
                cancel,
            );
            if cancel.load(Ordering::Relaxed) && result.status == JobStatus::Failed {
                let _ = tx.send(Report::Interrupted(job.key.clone()));
                return;
            }
            if result.status == JobStatus::Failed && transient && attempt <= retries {
                // Back off before trying again: 1 s, 2 s, 4 s ... at most a minute.
                let wait = Duration::from_secs((1u64 << (attempt - 1)).min(60));
                let reason = result.failure.clone().unwrap_or_default();
                let _ = tx.send(Report::Retrying(job.key.clone(), attempt, reason, wait));
                std::thread::sleep(wait);
                attempt += 1;
                continue;
            }
            result.attempts = attempt;
            let _ = tx.send(Report::Done(Box::new(result), log));
            break;
        }
    }
}
