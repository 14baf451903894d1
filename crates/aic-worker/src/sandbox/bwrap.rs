//! The bubblewrap command line: what of the host a job sees, and the namespaces it gets.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::JobSpec;

/// Namespaces and privileges. Without `--cap-drop ALL` a root-started bwrap leaves the job
/// root with every capability in its namespaces (it could unmount what hides the host or
/// remount `/` writable); `--disable-userns` (needs `--unshare-user`) stops it making a new
/// user namespace to win them back.
const FLAGS: &[&str] = &[
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
];

/// Host directories that, on merged-/usr systems, are symlinks into `/usr`.
const USR_LINKS: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/// The pieces of `/etc` a dynamically linked program needs (and alternatives' links).
const ETC_FILES: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
];

/// The bubblewrap arguments that run `spec` with `job_dir` as its writable working
/// directory, ending with `--` and the job's program and arguments.
pub(crate) fn args(spec: &JobSpec, job_dir: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = FLAGS.iter().map(OsString::from).collect();
    system_mounts(&mut args);
    let mut bind = |flag: &str, source: &Path, dest: &Path| {
        args.extend([flag.into(), source.into(), dest.into()]);
    };
    for b in &spec.ro_binds {
        bind("--ro-bind", &b.source, &b.dest);
    }
    for b in &spec.rw_binds {
        bind("--bind", &b.source, &b.dest);
    }
    for b in &spec.sockets {
        bind("--ro-bind", &b.source, &b.dest);
    }
    for device in &spec.devices {
        bind("--dev-bind", device, device);
    }
    bind("--bind", job_dir, job_dir);
    args.extend(["--chdir".into(), job_dir.into()]);
    // Last, once every mount point exists: nothing outside the binds and /tmp is writable.
    args.extend(["--remount-ro".into(), "/".into(), "--clearenv".into()]);
    for (key, value) in &spec.env {
        args.extend(["--setenv".into(), key.clone(), value.clone()]);
    }
    args.push("--".into());
    args.push(spec.program.clone().into());
    args.extend(spec.args.iter().cloned());
    args
}

/// `/usr` read-only, the merged-/usr links, the `/etc` pieces, fresh `/proc`, `/dev` and
/// `/tmp`.
fn system_mounts(args: &mut Vec<OsString>) {
    args.extend(["--ro-bind".into(), "/usr".into(), "/usr".into()]);
    for path in USR_LINKS {
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if let Ok(target) = fs::read_link(path) {
                    args.extend(["--symlink".into(), target.into(), (*path).into()]);
                }
            }
            Ok(meta) if meta.is_dir() => {
                args.extend(["--ro-bind".into(), (*path).into(), (*path).into()]);
            }
            _ => {}
        }
    }
    for path in ETC_FILES {
        args.extend(["--ro-bind-try".into(), (*path).into(), (*path).into()]);
    }
    for arg in ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"] {
        args.push(arg.into());
    }
}

/// Checks that `bwrap` can make this sandbox here (in some containers it cannot), by running
/// `true` in one; the reason if not.
pub(crate) fn probe(bwrap: &Path, scratch: &Path) -> Result<(), String> {
    let spec = JobSpec::new("probe", "/usr/bin/true");
    let output = Command::new(bwrap)
        .args(args(&spec, scratch))
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", bwrap.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} cannot make a sandbox here ({}): {}",
            bwrap.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The `bwrap` binary, if installed.
pub(crate) fn find() -> Option<PathBuf> {
    super::backend::find_program("bwrap")
}
