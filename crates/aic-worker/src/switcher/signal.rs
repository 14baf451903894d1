//! What an AI job tells the worker, and the line protocol it uses from its own process.
//!
//! A job process connects to the worker's Unix socket and speaks newline-terminated ASCII:
//!
//! | direction | line | meaning |
//! |---|---|---|
//! | job → worker | `job <id>` | first line: which accepted job this is |
//! | job → worker | `need` | the job needs the device (start, or resume after a wait) |
//! | job → worker | `wait data\|epoch\|idle\|held` | the job stopped computing, and why |
//! | job → worker | `end` | the job is done; the connection closes |
//! | worker → job | `go` | the device is the job's: compute |
//! | worker → job | `hold` | the owner paused the device: stop at the next step, send `wait held` |
//! | worker → job | `error <message>` | the line was refused (illegal in the switcher's state) |
//!
//! A job computes only between `go` and its next `wait`/`end`: the worker sends `go` once
//! mining has released the device, and resumes mining once it reads `wait` or `end`. A
//! connection that closes without `end` counts as `end` (the job died).

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

use super::machine::{Event, WaitReason};

/// A signal from an AI job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AiJobSignal {
    /// `need`: the job needs the device.
    Needs,
    /// `wait <reason>`: the job stopped computing.
    Waits(WaitReason),
    /// `end`: the job is done.
    Ended,
}

impl AiJobSignal {
    /// The state-machine event for this signal.
    pub fn event(self) -> Event {
        match self {
            AiJobSignal::Needs => Event::JobNeeds,
            AiJobSignal::Waits(reason) => Event::JobWaits(reason),
            AiJobSignal::Ended => Event::JobEnded,
        }
    }

    /// The protocol line, without the newline.
    pub fn line(self) -> &'static str {
        match self {
            AiJobSignal::Needs => "need",
            AiJobSignal::Waits(WaitReason::Data) => "wait data",
            AiJobSignal::Waits(WaitReason::Epoch) => "wait epoch",
            AiJobSignal::Waits(WaitReason::Idle) => "wait idle",
            AiJobSignal::Waits(WaitReason::Held) => "wait held",
            AiJobSignal::Ended => "end",
        }
    }

    /// Parses a protocol line (surrounding whitespace ignored).
    pub fn parse(line: &str) -> Result<Self, ProtocolError> {
        Ok(match line.trim() {
            "need" => AiJobSignal::Needs,
            "wait data" => AiJobSignal::Waits(WaitReason::Data),
            "wait epoch" => AiJobSignal::Waits(WaitReason::Epoch),
            "wait idle" => AiJobSignal::Waits(WaitReason::Idle),
            "wait held" => AiJobSignal::Waits(WaitReason::Held),
            "end" => AiJobSignal::Ended,
            other => return Err(ProtocolError::UnknownLine(other.to_owned())),
        })
    }
}

/// What the worker tells a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `go`.
    Go,
    /// `hold`.
    Hold,
    /// `error <message>`.
    Error(String),
}

impl Reply {
    /// The protocol line, newline included.
    pub fn line(&self) -> String {
        match self {
            Reply::Go => "go\n".to_owned(),
            Reply::Hold => "hold\n".to_owned(),
            Reply::Error(message) => format!("error {}\n", message.replace('\n', " ")),
        }
    }

    /// Parses a worker line.
    pub fn parse(line: &str) -> Result<Self, ProtocolError> {
        let line = line.trim();
        Ok(match line {
            "go" => Reply::Go,
            "hold" => Reply::Hold,
            _ => match line.strip_prefix("error ") {
                Some(message) => Reply::Error(message.to_owned()),
                None => return Err(ProtocolError::UnknownLine(line.to_owned())),
            },
        })
    }
}

/// A malformed protocol exchange.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A line that is not part of the protocol.
    #[error("unknown line {0:?}")]
    UnknownLine(String),
    /// The first line was not `job <id>` with a valid id.
    #[error("expected `job <id>` (id: 1-64 of [A-Za-z0-9._-]), got {0:?}")]
    BadHello(String),
}

/// Parses the first line, `job <id>`.
pub fn parse_hello(line: &str) -> Result<String, ProtocolError> {
    let bad = || ProtocolError::BadHello(line.trim().to_owned());
    let id = line.trim().strip_prefix("job ").ok_or_else(bad)?;
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(id.to_owned())
    } else {
        Err(bad())
    }
}

/// The job's end of the protocol: used by the job process (the trainer's loop).
#[derive(Debug)]
pub struct JobLink {
    writer: UnixStream,
    replies: Receiver<Reply>,
    hold: Arc<AtomicBool>,
}

impl JobLink {
    /// Connects to the worker's socket at `path` as job `id`.
    pub fn connect(path: &Path, id: &str) -> io::Result<Self> {
        let mut writer = UnixStream::connect(path)?;
        writer.write_all(format!("job {id}\n").as_bytes())?;
        let reader = BufReader::new(writer.try_clone()?);
        let hold = Arc::new(AtomicBool::new(false));
        let (tx, replies) = mpsc::channel();
        let flag = Arc::clone(&hold);
        std::thread::Builder::new()
            .name("aic-job-link".into())
            .spawn(move || {
                for line in reader.lines() {
                    let Ok(line) = line else { break };
                    let Ok(reply) = Reply::parse(&line) else {
                        continue;
                    };
                    if reply == Reply::Hold {
                        flag.store(true, Ordering::SeqCst);
                    }
                    if tx.send(reply).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Self {
            writer,
            replies,
            hold,
        })
    }

    /// Sends `need` and blocks until the worker answers `go`.
    pub fn need(&mut self) -> io::Result<()> {
        self.send(AiJobSignal::Needs)?;
        loop {
            match self.replies.recv() {
                Ok(Reply::Go) => return Ok(()),
                Ok(Reply::Hold) => continue,
                Ok(Reply::Error(message)) => return Err(io::Error::other(message)),
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the worker closed the connection",
                    ))
                }
            }
        }
    }

    /// True once the worker has asked the job to stop (`hold`): the job should finish its
    /// step, call [`JobLink::wait`] with [`WaitReason::Held`], then [`JobLink::need`].
    pub fn hold_requested(&self) -> bool {
        self.hold.load(Ordering::SeqCst)
    }

    /// Sends `wait <reason>`: the job has stopped computing.
    pub fn wait(&mut self, reason: WaitReason) -> io::Result<()> {
        if reason == WaitReason::Held {
            self.hold.store(false, Ordering::SeqCst);
        }
        self.send(AiJobSignal::Waits(reason))
    }

    /// Sends `end` and closes the connection.
    pub fn end(mut self) -> io::Result<()> {
        self.send(AiJobSignal::Ended)
    }

    fn send(&mut self, signal: AiJobSignal) -> io::Result<()> {
        self.writer
            .write_all(format!("{}\n", signal.line()).as_bytes())
    }
}

impl Drop for JobLink {
    /// Closes the connection (the reader thread's clone too): a link dropped without
    /// [`JobLink::end`] reads as a job that died.
    fn drop(&mut self) {
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_junk_is_refused() {
        for signal in [
            AiJobSignal::Needs,
            AiJobSignal::Waits(WaitReason::Data),
            AiJobSignal::Waits(WaitReason::Epoch),
            AiJobSignal::Waits(WaitReason::Idle),
            AiJobSignal::Waits(WaitReason::Held),
            AiJobSignal::Ended,
        ] {
            assert_eq!(AiJobSignal::parse(signal.line()).unwrap(), signal);
        }
        assert!(AiJobSignal::parse("wait lunch").is_err());
        for reply in [Reply::Go, Reply::Hold, Reply::Error("no job".into())] {
            assert_eq!(Reply::parse(&reply.line()).unwrap(), reply);
        }
        assert_eq!(parse_hello("job kws-7.a_b\n").unwrap(), "kws-7.a_b");
        assert!(parse_hello("job ").is_err());
        assert!(parse_hello("job a b").is_err());
        assert!(parse_hello("hello").is_err());
    }
}
