//! The results store as a sink: each finished job appended to results.jsonl (fsynced) and its
//! log written, before the next event is taken.

use super::{Event, RunError, Sink};
use crate::results::RunDir;

/// Appends each finished job to results.jsonl (fsynced) and writes its log.
pub struct StoreSink<'a> {
    run: &'a RunDir,
}

impl<'a> StoreSink<'a> {
    pub fn new(run: &'a RunDir) -> StoreSink<'a> {
        StoreSink { run }
    }
}

impl Sink for StoreSink<'_> {
    fn event(&mut self, event: &Event) -> Result<(), RunError> {
        if let Event::Finished { result, log } = event {
            let path = self.run.log_path(&result.key);
            std::fs::write(&path, log).map_err(|source| RunError::Write { path, source })?;
            self.run.append(result)?;
        }
        Ok(())
    }
}
