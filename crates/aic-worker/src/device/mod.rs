//! Devices: discovery (CPUs, NVIDIA GPUs through NVML loaded at run time, mining-only devices
//! seen through a node's Stratum server) and the standard device descriptor.
