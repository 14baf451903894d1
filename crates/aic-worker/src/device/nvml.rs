//! NVML (libnvidia-ml.so.1) loaded with `libloading` at run time: the only module of this crate
//! with `unsafe` code. Untested on a GPU here (the development machine has none); the
//! no-library path is tested.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

use libloading::Library;

use super::descriptor::{normalize, DeviceDescriptor, DeviceKind, SCHEMA_VERSION};
use super::gpu::GpuReading;

type Ret = c_int;
type Handle = *mut c_void;
const SUCCESS: Ret = 0;
const TEMPERATURE_GPU: c_int = 0;

#[repr(C)]
#[derive(Default)]
struct Memory {
    total: u64,
    free: u64,
    used: u64,
}

#[repr(C)]
#[derive(Default)]
struct Utilization {
    gpu: c_uint,
    memory: c_uint,
}

/// The NVML entry points used, copied out of the library, which [`Nvml`] keeps loaded.
struct Api {
    shutdown: unsafe extern "C" fn() -> Ret,
    error_string: unsafe extern "C" fn(Ret) -> *const c_char,
    count: unsafe extern "C" fn(*mut c_uint) -> Ret,
    handle: unsafe extern "C" fn(c_uint, *mut Handle) -> Ret,
    name: unsafe extern "C" fn(Handle, *mut c_char, c_uint) -> Ret,
    uuid: unsafe extern "C" fn(Handle, *mut c_char, c_uint) -> Ret,
    memory: unsafe extern "C" fn(Handle, *mut Memory) -> Ret,
    utilization: unsafe extern "C" fn(Handle, *mut Utilization) -> Ret,
    temperature: unsafe extern "C" fn(Handle, c_int, *mut c_uint) -> Ret,
    power: unsafe extern "C" fn(Handle, *mut c_uint) -> Ret,
    compute_capability: unsafe extern "C" fn(Handle, *mut c_int, *mut c_int) -> Ret,
}

/// An initialized NVML. Shut down on drop.
pub(crate) struct Nvml {
    api: Api,
    // Declared last: dropped after `api`, whose pointers point into it.
    _lib: Library,
}

impl std::fmt::Debug for Nvml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nvml")
    }
}

macro_rules! sym {
    ($lib:expr, $name:literal) => {{
        // SAFETY: the type annotated at the use site is the C signature NVML documents for
        // this symbol (nvml.h, API v2 names); the pointer is used only while the library is
        // loaded (`Nvml` owns both).
        let s = unsafe { $lib.get($name) }.map_err(|e| {
            format!(
                "{} missing from libnvidia-ml: {e}",
                String::from_utf8_lossy(&$name[..$name.len() - 1])
            )
        })?;
        *s
    }};
}

impl Nvml {
    /// Loads and initializes NVML, or says why it cannot.
    pub(crate) fn load() -> Result<Nvml, String> {
        let mut tried = Vec::new();
        let mut found = None;
        for name in ["libnvidia-ml.so.1", "libnvidia-ml.so"] {
            // SAFETY: loading runs the library's initializers; libnvidia-ml is the NVIDIA
            // driver's own library, whose initializers have no preconditions on the caller.
            match unsafe { Library::new(name) } {
                Ok(lib) => {
                    found = Some(lib);
                    break;
                }
                Err(e) => tried.push(format!("{name} could not be loaded ({e})")),
            }
        }
        let lib = found.ok_or_else(|| tried.join("; "))?;
        let init: unsafe extern "C" fn() -> Ret = sym!(lib, b"nvmlInit_v2\0");
        let api = Api {
            shutdown: sym!(lib, b"nvmlShutdown\0"),
            error_string: sym!(lib, b"nvmlErrorString\0"),
            count: sym!(lib, b"nvmlDeviceGetCount_v2\0"),
            handle: sym!(lib, b"nvmlDeviceGetHandleByIndex_v2\0"),
            name: sym!(lib, b"nvmlDeviceGetName\0"),
            uuid: sym!(lib, b"nvmlDeviceGetUUID\0"),
            memory: sym!(lib, b"nvmlDeviceGetMemoryInfo\0"),
            utilization: sym!(lib, b"nvmlDeviceGetUtilizationRates\0"),
            temperature: sym!(lib, b"nvmlDeviceGetTemperature\0"),
            power: sym!(lib, b"nvmlDeviceGetPowerUsage\0"),
            compute_capability: sym!(lib, b"nvmlDeviceGetCudaComputeCapability\0"),
        };
        // SAFETY: nvmlInit_v2 takes no arguments and may be called from any thread.
        let r = unsafe { init() };
        if r != SUCCESS {
            // Not initialized: no `Nvml` is built, so nvmlShutdown is not called.
            return Err(format!(
                "nvmlInit failed: {}",
                error_text(api.error_string, r)
            ));
        }
        Ok(Nvml { api, _lib: lib })
    }

    fn error(&self, r: Ret) -> String {
        error_text(self.api.error_string, r)
    }

    fn handle(&self, index: c_uint) -> Option<Handle> {
        let mut h: Handle = std::ptr::null_mut();
        // SAFETY: `h` is a valid out-pointer; NVML is initialized while `self` lives.
        (unsafe { (self.api.handle)(index, &mut h) } == SUCCESS).then_some(h)
    }

    fn string(
        &self,
        f: unsafe extern "C" fn(Handle, *mut c_char, c_uint) -> Ret,
        h: Handle,
    ) -> Option<String> {
        let mut buf = [0 as c_char; 128];
        // SAFETY: `buf` holds `buf.len()` bytes, the length passed; NVML writes a
        // NUL-terminated string of at most that length into it.
        if unsafe { f(h, buf.as_mut_ptr(), buf.len() as c_uint) } != SUCCESS {
            return None;
        }
        buf[buf.len() - 1] = 0;
        // SAFETY: the buffer is NUL-terminated (its last byte was just set to 0).
        Some(
            unsafe { CStr::from_ptr(buf.as_ptr()) }
                .to_string_lossy()
                .into_owned(),
        )
    }

    /// One descriptor per GPU, and a note where none or not all could be read.
    pub(crate) fn descriptors(&self) -> (Vec<DeviceDescriptor>, Option<String>) {
        let mut n: c_uint = 0;
        // SAFETY: `n` is a valid out-pointer.
        let r = unsafe { (self.api.count)(&mut n) };
        if r != SUCCESS {
            return (
                Vec::new(),
                Some(format!(
                    "no NVIDIA GPU found: nvmlDeviceGetCount failed: {}",
                    self.error(r)
                )),
            );
        }
        if n == 0 {
            return (
                Vec::new(),
                Some("no NVIDIA GPU found: NVML reports none".to_owned()),
            );
        }
        let mut out = Vec::new();
        let mut skipped = 0;
        for i in 0..n {
            let Some(h) = self.handle(i) else {
                skipped += 1;
                continue;
            };
            let uuid = self
                .string(self.api.uuid, h)
                .unwrap_or_else(|| format!("index-{i}"));
            let model = self
                .string(self.api.name, h)
                .unwrap_or_else(|| "unknown".to_owned());
            let mut mem = Memory::default();
            // SAFETY: `mem` is a valid out-pointer of nvmlMemory_t's layout.
            let memory =
                (unsafe { (self.api.memory)(h, &mut mem) } == SUCCESS).then_some(mem.total);
            let (mut major, mut minor) = (0, 0);
            let mut caps = vec!["matmul-f32".to_owned()];
            // SAFETY: both are valid out-pointers.
            if unsafe { (self.api.compute_capability)(h, &mut major, &mut minor) } == SUCCESS {
                caps.push(format!("cuda-{major}.{minor}"));
            }
            out.push(DeviceDescriptor {
                schema_version: SCHEMA_VERSION,
                id: format!("gpu:{uuid}"),
                kind: DeviceKind::Gpu,
                vendor: "NVIDIA".to_owned(),
                model,
                memory_bytes: memory,
                cores: None,
                threads: None,
                capabilities: normalize(caps),
                scores: None,
            });
        }
        let note =
            (skipped > 0).then(|| format!("{skipped} of {n} NVIDIA GPUs could not be opened"));
        (out, note)
    }

    /// The sensors of GPU `index`; fields the device does not report are `None`.
    pub(crate) fn reading(&self, index: c_uint) -> GpuReading {
        let Some(h) = self.handle(index) else {
            return GpuReading::default();
        };
        let mut r = GpuReading::default();
        let mut u = Utilization::default();
        // SAFETY (this and the three calls below): valid out-pointers of the documented types,
        // a handle NVML returned, NVML initialized while `self` lives.
        if unsafe { (self.api.utilization)(h, &mut u) } == SUCCESS {
            r.utilization = Some(f64::from(u.gpu.min(100)) / 100.0);
        }
        let mut m = Memory::default();
        if unsafe { (self.api.memory)(h, &mut m) } == SUCCESS {
            r.memory_used_bytes = Some(m.used);
            r.memory_total_bytes = Some(m.total);
        }
        let mut t: c_uint = 0;
        if unsafe { (self.api.temperature)(h, TEMPERATURE_GPU, &mut t) } == SUCCESS {
            r.temperature_celsius = Some(f64::from(t));
        }
        let mut mw: c_uint = 0;
        if unsafe { (self.api.power)(h, &mut mw) } == SUCCESS {
            r.power_watts = Some(f64::from(mw) / 1000.0);
        }
        r
    }
}

fn error_text(error_string: unsafe extern "C" fn(Ret) -> *const c_char, r: Ret) -> String {
    // SAFETY: nvmlErrorString returns a pointer to a static NUL-terminated string for any
    // code, and may be called before nvmlInit.
    let p = unsafe { error_string(r) };
    if p.is_null() {
        return format!("error {r}");
    }
    // SAFETY: non-null, NUL-terminated and static (see above).
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl Drop for Nvml {
    fn drop(&mut self) {
        // SAFETY: NVML was initialized in `load` (an uninitialized one is never built).
        unsafe { (self.api.shutdown)() };
    }
}
