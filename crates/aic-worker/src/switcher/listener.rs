//! The worker's end of the job protocol ([`super::signal`]): a Unix socket on which job
//! processes connect, one connection per job.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use super::runtime::SwitcherHandle;
use super::signal::{parse_hello, AiJobSignal, Reply};

/// Accepts job connections on a Unix socket and feeds their signals to a switcher. Dropping
/// it stops accepting and removes the socket file; open connections run until they close.
#[derive(Debug)]
pub struct JobListener {
    path: PathBuf,
    closing: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl JobListener {
    /// Binds `path` (removing a stale socket file there) and starts accepting.
    pub fn bind(path: &Path, switcher: SwitcherHandle) -> io::Result<Self> {
        if path.exists() {
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        let closing = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&closing);
        let thread = std::thread::Builder::new()
            .name("aic-job-listener".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let switcher = switcher.clone();
                    let _ = std::thread::Builder::new()
                        .name("aic-job-conn".into())
                        .spawn(move || serve(stream, switcher));
                }
            })?;
        Ok(Self {
            path: path.to_owned(),
            closing,
            thread: Some(thread),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for JobListener {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = UnixStream::connect(&self.path);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(stream: UnixStream, switcher: SwitcherHandle) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let id = match parse_hello(&line) {
        Ok(id) => id,
        Err(error) => {
            let _ = writer.write_all(Reply::Error(error.to_string()).line().as_bytes());
            return;
        }
    };
    let Ok(mut sink_stream) = writer.try_clone() else {
        return;
    };
    let sink = Box::new(move |reply: &Reply| sink_stream.write_all(reply.line().as_bytes()));
    if let Err(error) = switcher.attach(&id, sink) {
        let _ = writer.write_all(Reply::Error(error.to_string()).line().as_bytes());
        return;
    }
    loop {
        line.clear();
        let read = reader.read_line(&mut line);
        let at = Instant::now();
        match read {
            Ok(0) | Err(_) => {
                // Closed without `end`: the job died; free the device.
                let _ = switcher.signal(&id, AiJobSignal::Ended, at);
                return;
            }
            Ok(_) => match AiJobSignal::parse(&line) {
                Ok(signal) => {
                    if switcher.signal(&id, signal, at).is_err() {
                        return;
                    }
                    if signal == AiJobSignal::Ended {
                        return;
                    }
                }
                Err(error) => {
                    let _ = writer.write_all(Reply::Error(error.to_string()).line().as_bytes());
                }
            },
        }
    }
}
