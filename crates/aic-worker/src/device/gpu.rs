//! NVIDIA GPUs through NVML, loaded at run time. The API is the same with and without the
//! `nvml` feature: without it, [`Gpus::open`] finds none and says why in [`Gpus::note`], so
//! callers never write `#[cfg]`. No library, no driver or no GPU means none found, never an
//! error or a crash.

use super::descriptor::DeviceDescriptor;

/// One reading of a GPU's sensors; `None` where the device does not report it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuReading {
    /// Fraction of the last sample period in which a kernel ran, 0 to 1.
    pub utilization: Option<f64>,
    /// Device memory in use, bytes.
    pub memory_used_bytes: Option<u64>,
    /// Device memory in all, bytes.
    pub memory_total_bytes: Option<u64>,
    /// Core temperature, °C.
    pub temperature_celsius: Option<f64>,
    /// Board power draw, watts.
    pub power_watts: Option<f64>,
}

/// The GPUs of this machine and the means to read their sensors.
#[derive(Debug)]
pub struct Gpus {
    #[cfg(feature = "nvml")]
    nvml: Option<super::nvml::Nvml>,
    devices: Vec<DeviceDescriptor>,
    note: Option<String>,
}

impl Gpus {
    /// Finds the GPUs. Never fails: where none are found, [`Gpus::note`] says why.
    pub fn open() -> Gpus {
        #[cfg(feature = "nvml")]
        {
            match super::nvml::Nvml::load() {
                Ok(nvml) => {
                    let (devices, note) = nvml.descriptors();
                    Gpus {
                        nvml: Some(nvml),
                        devices,
                        note,
                    }
                }
                Err(reason) => Gpus {
                    nvml: None,
                    devices: Vec::new(),
                    note: Some(format!("no NVIDIA GPU found: {reason}")),
                },
            }
        }
        #[cfg(not(feature = "nvml"))]
        {
            Gpus {
                devices: Vec::new(),
                note: Some(NOT_COMPILED.to_owned()),
            }
        }
    }

    /// The GPUs found, each with id `gpu:<UUID>`.
    pub fn devices(&self) -> &[DeviceDescriptor] {
        &self.devices
    }

    /// Why no GPU (or fewer than present) was found, where that is so.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Reads the sensors of the GPU with descriptor id `id`; `None` if it is not one of ours.
    pub fn reading(&self, id: &str) -> Option<GpuReading> {
        #[cfg(feature = "nvml")]
        {
            let index = self.devices.iter().position(|d| d.id == id)?;
            Some(self.nvml.as_ref()?.reading(index as u32))
        }
        #[cfg(not(feature = "nvml"))]
        {
            let _ = id;
            None
        }
    }
}

/// The note given when the `nvml` feature is off.
#[cfg(not(feature = "nvml"))]
pub const NOT_COMPILED: &str =
    "NVML support not compiled in (build aic-worker with the `nvml` feature to find NVIDIA GPUs)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_never_fails_and_says_why_none_were_found() {
        let gpus = Gpus::open();
        if gpus.devices().is_empty() {
            let note = gpus.note().expect("a reason when no GPU is found");
            assert!(!note.is_empty());
            #[cfg(not(feature = "nvml"))]
            assert!(note.contains("not compiled in"), "{note}");
            #[cfg(feature = "nvml")]
            assert!(note.contains("no NVIDIA GPU found"), "{note}");
        }
        for d in gpus.devices() {
            assert!(d.id.starts_with("gpu:"));
            assert!(gpus.reading(&d.id).is_some());
        }
        assert!(gpus.reading("gpu:no-such").is_none());
    }
}
