//! Monitoring: per-device samples every second (utilization, memory, temperature, power where
//! reported, and which task holds the device), a short history, Prometheus and JSON views.
