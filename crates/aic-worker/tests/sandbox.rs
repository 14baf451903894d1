//! The job sandbox with real processes: what a job can do, the escapes it must not manage,
//! its limits, terminate, and cleanup. Runs as root where bubblewrap and cgroups exist (CI);
//! a test that needs what a machine lacks says so on stderr and passes.

#![allow(clippy::print_stderr)] // tests report what they skipped

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use aic_worker::sandbox::{
    ExitStatus, Finished, Isolation, IsolationChoice, JobSpec, LimitBackend, LimitChoice, Limits,
    Output, Sandbox, SandboxConfig, SandboxError, TerminationReason,
};
use tempfile::TempDir;

/// Every job's wall-time bound: no test waits longer on one job.
const BOUND: Duration = Duration::from_secs(30);

/// A worker's temp dir with its jobs root and a sandbox over it.
struct Worker {
    dir: TempDir,
    sandbox: Sandbox,
}

impl Worker {
    fn with(config: impl FnOnce(&mut SandboxConfig)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = SandboxConfig::new(dir.path().join("jobs"));
        config(&mut cfg);
        let sandbox = Sandbox::new(cfg).expect("sandbox");
        Self { dir, sandbox }
    }

    /// The default sandbox, if it isolates here (else why not, on stderr).
    fn isolated(test: &str) -> Option<Self> {
        let worker = Self::with(|_| {});
        match worker.sandbox.isolation() {
            Isolation::Bubblewrap { .. } => Some(worker),
            other => {
                eprintln!("{test}: skipped, no isolation here: {other:?}");
                None
            }
        }
    }

    /// The default sandbox, if it limits through cgroups here (isolated or not: these tests
    /// are about limits).
    fn cgroups(test: &str) -> Option<Self> {
        let worker = Self::with(|_| {});
        match worker.sandbox.backend() {
            LimitBackend::CgroupV1 | LimitBackend::CgroupV2 => Some(worker),
            other => {
                eprintln!(
                    "{test}: skipped, limits through {other:?}, not cgroups: {:?}",
                    worker.sandbox.backend_notes()
                );
                None
            }
        }
    }

    fn run(&self, spec: &JobSpec) -> Finished {
        let started = Instant::now();
        let finished = self.sandbox.run(spec).expect("run job");
        assert!(started.elapsed() < BOUND + Duration::from_secs(5));
        finished
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A unique job id (tests and parallel runs share the cgroup parent).
fn id(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// `/bin/sh -c script` with a PATH, a bounded wall time and a short grace.
fn sh(name: &str, script: &str) -> JobSpec {
    JobSpec::new(id(name), "/bin/sh")
        .args(["-c", script])
        .env("PATH", "/usr/bin:/bin")
        .limits(Limits {
            wall_time: Some(BOUND),
            term_grace: Duration::from_secs(1),
            ..Limits::default()
        })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn job_runs_in_its_own_writable_dir_with_a_clean_environment() {
    let Some(w) = Worker::isolated("job_runs_in_its_own_writable_dir") else {
        return;
    };
    let spec = sh(
        "own-dir",
        "pwd; echo hello > out.txt; cat out.txt; env; exit 7",
    )
    .env("JOB_VAR", "given");
    let job_dir = w.sandbox.job_dir(&spec.id);
    let done = w.run(&spec);
    let out = text(&done.stdout);
    assert_eq!(
        done.exit.status,
        ExitStatus::Code(7),
        "stderr: {}",
        text(&done.stderr)
    );
    assert!(
        out.starts_with(&format!("{}\nhello\n", job_dir.display())),
        "{out}"
    );
    assert!(out.contains("JOB_VAR=given"), "{out}");
    assert!(
        !out.contains("HOME="),
        "the worker's environment leaked: {out}"
    );
    let written = std::fs::read_to_string(job_dir.join("out.txt")).expect("output on the host");
    assert_eq!(written, "hello\n");
    assert!(done.exit.terminated.is_none() && !done.exit.oom_killed);
    assert!(done.exit.isolation.is_isolated());
    assert_eq!(done.exit.backend, w.sandbox.backend());
    if is_root() {
        assert!(
            matches!(
                w.sandbox.backend(),
                LimitBackend::CgroupV1 | LimitBackend::CgroupV2
            ),
            "as root on Linux with cgroups, limits use cgroups: {:?}",
            w.sandbox.backend_notes()
        );
    }
}

#[test]
fn worker_key_file_is_absent() {
    let Some(w) = Worker::isolated("worker_key_file_is_absent") else {
        return;
    };
    let key = w.path("worker.key");
    std::fs::write(&key, "SECRET-KEY-MATERIAL\n").expect("key file");
    let script = format!(
        "cat {key}; ls {dir}; ls -a /; if [ -e {key} ]; then exit 0; else exit 42; fi",
        key = key.display(),
        dir = w.dir.path().display()
    );
    let done = w.run(&sh("key-file", &script));
    assert_eq!(
        done.exit.status,
        ExitStatus::Code(42),
        "the key file is visible"
    );
    let out = text(&done.stdout);
    assert!(
        !out.contains("SECRET-KEY-MATERIAL") && !out.contains("worker.key"),
        "{out}"
    );
    assert!(
        text(&done.stderr).contains("No such file"),
        "{}",
        text(&done.stderr)
    );
}

#[test]
fn job_cannot_read_another_jobs_dir() {
    let Some(w) = Worker::isolated("job_cannot_read_another_jobs_dir") else {
        return;
    };
    let a = w.run(&sh("job-a", "echo A-PRIVATE > private.txt"));
    assert!(a.exit.status.success());
    let a_file = w.sandbox.job_dir(&id("job-a")).join("private.txt");
    assert!(a_file.exists(), "job A wrote its file on the host");
    let script = format!(
        "cat {}; ls {}; if [ -e {} ]; then exit 0; else exit 42; fi",
        a_file.display(),
        w.path("jobs").display(),
        a_file.display()
    );
    let b = w.run(&sh("job-b", &script));
    assert_eq!(
        b.exit.status,
        ExitStatus::Code(42),
        "job B sees job A's file"
    );
    let out = text(&b.stdout);
    assert!(!out.contains("A-PRIVATE"), "{out}");
    // Only job B's own directory is under the jobs root.
    assert_eq!(out.trim(), id("job-b"), "{out}");
}

#[test]
fn job_cannot_unmount_or_remount() {
    let Some(w) = Worker::isolated("job_cannot_unmount_or_remount") else {
        return;
    };
    let script = "umount /tmp && echo UMOUNT-OK; umount -l /usr && echo UMOUNT-USR-OK; \
                  mount -o remount,rw / && echo REMOUNT-OK; \
                  mount -t tmpfs none /tmp && echo MOUNT-OK; \
                  touch /escape && echo WRITE-ROOT-OK; touch /usr/escape && echo WRITE-USR-OK; \
                  grep CapEff /proc/self/status; exit 0";
    let done = w.run(&sh("mounts", script));
    let (out, err) = (text(&done.stdout), text(&done.stderr));
    assert!(done.exit.status.success(), "{err}");
    assert!(!out.contains("-OK"), "an escape worked: {out}");
    assert!(
        out.contains("CapEff:\t0000000000000000"),
        "capabilities left: {out}"
    );
    assert!(
        !err.contains("not found"),
        "a tool is missing, so nothing was tried: {err}"
    );
}

#[test]
fn job_cannot_create_a_user_namespace() {
    let Some(w) = Worker::isolated("job_cannot_create_a_user_namespace") else {
        return;
    };
    let script = "unshare -U true && echo USERNS-OK; unshare -Ur true && echo USERNS-ROOT-OK; \
                  unshare -m true && echo MOUNTNS-OK; exit 0";
    let done = w.run(&sh("userns", script));
    let (out, err) = (text(&done.stdout), text(&done.stderr));
    assert!(done.exit.status.success(), "{err}");
    assert!(!out.contains("-OK"), "a namespace was made: {out}");
    assert!(!err.contains("not found"), "{err}");
}

#[test]
fn job_has_no_network() {
    let Some(w) = Worker::isolated("job_has_no_network") else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on host loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let script = format!(
        "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo TCP-OK; \
         python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2)' \
           && echo PY-TCP-OK; \
         cat /proc/net/dev; exit 0"
    );
    let done = w.run(&sh("network", &script));
    let (out, err) = (text(&done.stdout), text(&done.stderr));
    assert!(done.exit.status.success(), "{err}");
    assert!(!out.contains("-OK"), "reached the host: {out}");
    assert!(
        err.contains("Connection refused") || err.contains("unreachable"),
        "{err}"
    );
    // Only loopback in the job's network namespace.
    let interfaces: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim()))
        .filter(|name| !name.contains('|'))
        .collect();
    assert_eq!(interfaces, ["lo"], "{out}");
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the host listener saw a connection: {other:?}"),
    }
}

#[test]
fn job_talks_over_an_exposed_unix_socket_only() {
    let Some(w) = Worker::isolated("job_talks_over_an_exposed_unix_socket") else {
        return;
    };
    let socket = w.path("data.sock");
    std::fs::write(w.path("beside-the-socket"), "NOT-FOR-JOBS").expect("file");
    let listener = UnixListener::bind(&socket).expect("bind unix socket");
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line).expect("read");
        (&stream)
            .write_all(format!("echo: {line}").as_bytes())
            .expect("write");
    });
    let script = format!(
        "python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); \
         s.connect(sys.argv[1]); s.sendall(b\"ping\\n\"); print(s.recv(100).decode(), end=\"\")' {sock}; \
         cat {beside}; ls {dir}",
        sock = socket.display(),
        beside = w.path("beside-the-socket").display(),
        dir = w.dir.path().display(),
    );
    let done = w.run(&sh("unix-socket", &script).socket(&socket));
    server.join().expect("echo server");
    let out = text(&done.stdout);
    assert!(
        out.starts_with("echo: ping\n"),
        "{out} / {}",
        text(&done.stderr)
    );
    assert!(!out.contains("NOT-FOR-JOBS"), "{out}");
    // Of the worker's directory only the socket (and the jobs root, holding this job's
    // directory) is there.
    assert!(!out.contains("beside-the-socket"), "{out}");
    assert!(out.contains("data.sock\n"), "{out}");
}

#[test]
fn job_sees_only_the_devices_it_is_given() {
    let Some(w) = Worker::isolated("job_sees_only_the_devices_it_is_given") else {
        return;
    };
    if !Path::new("/dev/fuse").exists() {
        eprintln!("job_sees_only_the_devices_it_is_given: skipped, no /dev/fuse to expose");
        return;
    }
    let script = "test -c /dev/fuse && echo FUSE; test -c /dev/null && echo NULL; \
                  ls /dev | grep -E '^(kvm|loop|vd|sd|nvme|kmsg|mem)' || echo NO-HOST-DEVICES";
    let done = w.run(&sh("devices", script).device("/dev/fuse"));
    assert_eq!(
        text(&done.stdout),
        "FUSE\nNULL\nNO-HOST-DEVICES\n",
        "{}",
        text(&done.stderr)
    );
    let missing = sh("devices-missing", "true").device("/dev/no-such-gpu");
    assert!(matches!(
        w.sandbox.spawn(&missing),
        Err(SandboxError::MissingBindSource(_))
    ));
}

#[test]
fn memory_over_the_limit_is_oom_killed_and_the_worker_goes_on() {
    let Some(w) = Worker::cgroups("memory_over_the_limit_is_oom_killed") else {
        return;
    };
    let mut spec = sh("oom", "head -c 500M /dev/zero | tail; echo after");
    spec.limits.memory_bytes = Some(64 << 20);
    let done = w.run(&spec);
    assert!(
        done.exit.oom_killed,
        "{:?} / {}",
        done.exit,
        text(&done.stderr)
    );
    assert!(done.exit.terminated.is_none());
    // v2 kernels before 5.19 have no memory.peak.
    if let Some(peak) = done.exit.peak_memory_bytes {
        assert!(peak <= 64 << 20 && peak > 32 << 20, "peak {peak}");
    }
    assert!(
        done.exit.cleanup_error.is_none(),
        "{:?}",
        done.exit.cleanup_error
    );
    // The worker is still here and runs the next job.
    let next = w.run(&sh("after-oom", "echo fine"));
    assert_eq!(text(&next.stdout), "fine\n");
    assert!(next.exit.status.success() && !next.exit.oom_killed);
}

#[test]
fn rlimit_backend_fails_allocation_with_a_clear_report() {
    let w = Worker::with(|c| c.limits = LimitChoice::Force(LimitBackend::Rlimit));
    let mut spec = sh("rlimit", "head -c 500M /dev/zero | tail");
    spec.limits.memory_bytes = Some(64 << 20);
    let done = w.run(&spec);
    assert_eq!(done.exit.backend, LimitBackend::Rlimit);
    assert!(!done.exit.status.success(), "{:?}", done.exit);
    assert!(
        !done.exit.oom_killed,
        "rlimits cannot know about the OOM killer"
    );
    assert!(
        text(&done.stderr).contains("memory exhausted"),
        "{}",
        text(&done.stderr)
    );
    let next = w.run(&sh("after-rlimit", "echo fine"));
    assert!(next.exit.status.success());
}

/// Every way this machine can run a job, for the tests about signals and waits: the default
/// (isolated and cgroups here), unisolated, and rlimits only (no cgroup: the process tree).
fn variants() -> Vec<(&'static str, Worker)> {
    let mut workers = vec![
        ("default", Worker::with(|_| {})),
        (
            "unisolated",
            Worker::with(|c| c.isolation = IsolationChoice::Off),
        ),
    ];
    let rlimit = tempfile::tempdir().expect("temp dir");
    let mut cfg = SandboxConfig::new(rlimit.path().join("jobs"));
    cfg.limits = LimitChoice::Force(LimitBackend::Rlimit);
    match Sandbox::new(cfg) {
        Ok(sandbox) => workers.push((
            "rlimit",
            Worker {
                dir: rlimit,
                sandbox,
            },
        )),
        Err(e) => eprintln!("rlimit variant skipped: {e}"),
    }
    workers
}

#[test]
fn terminate_lets_the_job_checkpoint_within_the_grace() {
    for (variant, w) in variants() {
        let spec = sh(
            &format!("checkpoint-{variant}"),
            "trap 'echo saved > checkpoint; exit 0' TERM; touch ready; \
             while true; do sleep 0.1; done",
        );
        let mut job = w.sandbox.spawn(&spec).expect("spawn");
        wait_for_file(&job.job_dir().join("ready"));
        let asked = Instant::now();
        let exit = job.terminate(Duration::from_secs(10)).expect("terminate");
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "{variant}: it did not stop on SIGTERM"
        );
        let termination = exit.terminated.expect("terminated by the worker");
        assert_eq!(termination.reason, TerminationReason::Requested);
        assert!(!termination.killed, "{variant}: {exit:?}");
        assert_eq!(exit.status, ExitStatus::Code(0), "{variant}");
        let saved = std::fs::read_to_string(job.job_dir().join("checkpoint"));
        assert_eq!(saved.expect("checkpoint"), "saved\n", "{variant}");
    }
}

#[test]
fn terminate_kills_a_job_that_ignores_sigterm_after_the_grace() {
    for (variant, w) in variants() {
        let spec = sh(
            &format!("ignores-term-{variant}"),
            "trap '' TERM; touch ready; while true; do sleep 0.1; done",
        );
        let mut job = w.sandbox.spawn(&spec).expect("spawn");
        wait_for_file(&job.job_dir().join("ready"));
        let grace = Duration::from_millis(500);
        let asked = Instant::now();
        let exit = job.terminate(grace).expect("terminate");
        let took = asked.elapsed();
        assert!(
            took >= grace && took < Duration::from_secs(5),
            "{variant}: {took:?}"
        );
        let termination = exit.terminated.expect("terminated by the worker");
        assert!(termination.killed, "{variant}: {exit:?}");
        assert_eq!(exit.status, ExitStatus::Signal(9), "{variant}");
        assert!(exit.cleanup_error.is_none(), "{:?}", exit.cleanup_error);
        // A second wait returns the same report.
        assert_eq!(job.wait().expect("wait again"), exit);
    }
}

#[test]
fn wall_time_terminates_the_job() {
    for (variant, w) in variants() {
        let mut spec = sh(&format!("wall-time-{variant}"), "sleep 30");
        spec.limits.wall_time = Some(Duration::from_millis(300));
        spec.limits.term_grace = Duration::from_millis(300);
        let done = w.run(&spec);
        let termination = done.exit.terminated.expect("terminated");
        assert_eq!(termination.reason, TerminationReason::WallTime, "{variant}");
        assert!(
            done.exit.wall_time < Duration::from_secs(5),
            "{variant}: {:?}",
            done.exit
        );
    }
}

#[test]
fn the_cgroup_is_gone_after_the_job_and_its_stragglers() {
    let Some(w) = Worker::cgroups("the_cgroup_is_gone_after_the_job") else {
        return;
    };
    let spec = sh(
        "cgroup-gone",
        "sleep 60 & sleep 60 & touch ready; while [ ! -e stop ]; do sleep 0.05; done",
    );
    let mut job = w.sandbox.spawn(&spec).expect("spawn");
    wait_for_file(&job.job_dir().join("ready"));
    let needle = format!("/aic-worker/{}", spec.id);
    let membership =
        std::fs::read_to_string(format!("/proc/{}/cgroup", job.pid())).expect("proc cgroup");
    assert!(
        membership.contains(&needle),
        "not in its cgroup: {membership}"
    );
    let dirs = cgroup_dirs(&spec.id);
    assert!(
        !dirs.is_empty(),
        "no cgroup directory found for {}",
        spec.id
    );
    // The same id cannot start twice while its cgroup has processes.
    assert!(matches!(
        w.sandbox.spawn(&spec),
        Err(SandboxError::AlreadyRunning(_))
    ));
    std::fs::write(job.job_dir().join("stop"), "").expect("stop");
    let exit = job.wait_timeout(BOUND).expect("wait").expect("ended");
    assert!(exit.status.success(), "{exit:?}");
    assert!(exit.cleanup_error.is_none(), "{:?}", exit.cleanup_error);
    for dir in dirs {
        assert!(!dir.exists(), "{} is still there", dir.display());
    }
}

#[test]
fn cpu_quota_throttles_and_cpuset_pins() {
    let Some(w) = Worker::cgroups("cpu_quota_throttles_and_cpuset_pins") else {
        return;
    };
    let mut spec = sh(
        "cpu",
        "grep Cpus_allowed_list /proc/self/status; touch ready; \
         while [ ! -e stop ]; do :; done",
    )
    .output(Output::Piped, Output::Null);
    spec.limits.cpu_cores = Some(0.2);
    spec.limits.cpuset = Some("0".to_owned());
    let mut job = w.sandbox.spawn(&spec).expect("spawn");
    let mut stdout = job.take_stdout().expect("piped stdout");
    wait_for_file(&job.job_dir().join("ready"));
    // Throttled within some periods; on a loaded machine the loop may need more of them to
    // use its 20 ms of a period.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stats = Vec::new();
    while Instant::now() < deadline && throttled(&stats) == 0 {
        thread::sleep(Duration::from_millis(200));
        stats = cgroup_dirs(&spec.id)
            .iter()
            .filter_map(|dir| std::fs::read_to_string(dir.join("cpu.stat")).ok())
            .collect();
    }
    std::fs::write(job.job_dir().join("stop"), "").expect("stop");
    let exit = job.wait_timeout(BOUND).expect("wait").expect("ended");
    assert!(exit.status.success(), "{exit:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).expect("read stdout");
    assert_eq!(out.trim(), "Cpus_allowed_list:\t0");
    assert!(throttled(&stats) > 0, "not throttled: {stats:?}");
}

/// The largest `nr_throttled` in these `cpu.stat` texts.
fn throttled(stats: &[String]) -> u64 {
    stats
        .iter()
        .flat_map(|s| s.lines())
        .filter_map(|l| l.strip_prefix("nr_throttled "))
        .filter_map(|n| n.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

/// The directories of job `id`'s cgroup under the usual mount points (v1 and v2).
fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut candidates = vec![PathBuf::from("/sys/fs/cgroup/aic-worker").join(id)];
    if let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") {
        for entry in entries.flatten() {
            candidates.push(entry.path().join("aic-worker").join(id));
        }
    }
    candidates.into_iter().filter(|d| d.is_dir()).collect()
}

#[test]
fn pids_limit_stops_a_fork_loop_and_the_worker_goes_on() {
    let Some(w) = Worker::cgroups("pids_limit_stops_a_fork_loop") else {
        return;
    };
    let mut spec = sh(
        "fork-loop",
        "i=0; while [ $i -lt 64 ]; do sleep 20 & i=$((i+1)); echo $i > count; done; wait",
    );
    spec.limits.pids_max = Some(16);
    spec.limits.wall_time = Some(Duration::from_secs(10));
    let job_dir = w.sandbox.job_dir(&spec.id);
    let done = w.run(&spec);
    assert!(done.exit.pids_limit_hit, "{:?}", done.exit);
    let started: u32 = std::fs::read_to_string(job_dir.join("count"))
        .expect("count")
        .trim()
        .parse()
        .expect("a number");
    assert!(started < 16, "{started} sleeps started under a limit of 16");
    assert!(
        done.exit.cleanup_error.is_none(),
        "{:?}",
        done.exit.cleanup_error
    );
    let next = w.run(&sh("after-fork-loop", "echo fine"));
    assert_eq!(text(&next.stdout), "fine\n");
}

#[test]
fn without_isolation_the_report_says_so() {
    let w = Worker::with(|c| c.isolation = IsolationChoice::Off);
    let Isolation::None { reason } = w.sandbox.isolation().clone() else {
        panic!("isolation was turned off");
    };
    assert!(reason.contains("turned off"), "{reason}");
    let done = w.run(&sh("unisolated", "pwd; echo HOME=$HOME"));
    assert_eq!(done.exit.isolation, Isolation::None { reason });
    let job_dir = w.sandbox.job_dir(&id("unisolated"));
    assert_eq!(
        text(&done.stdout),
        format!("{}\nHOME=\n", job_dir.display())
    );
}

#[test]
fn bad_specs_are_refused() {
    let w = Worker::with(|c| c.isolation = IsolationChoice::Off);
    for bad in [
        JobSpec::new("../escape", "/bin/true"),
        JobSpec::new(".hidden", "/bin/true"),
        JobSpec::new("ok", "relative/program"),
        JobSpec::new("ok", "/bin/true").ro_bind("relative"),
    ] {
        assert!(
            matches!(w.sandbox.spawn(&bad), Err(SandboxError::InvalidSpec(_))),
            "{bad:?} was accepted"
        );
    }
    let mut cores = JobSpec::new("ok", "/bin/true");
    cores.limits.cpu_cores = Some(0.0);
    assert!(matches!(
        w.sandbox.spawn(&cores),
        Err(SandboxError::InvalidSpec(_))
    ));
    let mut output = JobSpec::new(id("output-file"), "/bin/sh")
        .args(["-c", "echo to-file"])
        .output(Output::File(w.path("out.log")), Output::Null);
    output.limits.wall_time = Some(BOUND);
    let mut job = w.sandbox.spawn(&output).expect("spawn");
    assert!(job.wait().expect("wait").status.success());
    assert_eq!(
        std::fs::read_to_string(w.path("out.log")).expect("log"),
        "to-file\n"
    );
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
