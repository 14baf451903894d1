//! The kernel family of this machine: which SIMD kernels burn's CPU backend (through `gemm`)
//! runs here. Bitwise reproducibility of training holds within one family only (see
//! `docs/model-standard.md`, determinism classes), so transcripts record it.

/// A short name such as `x86_64+avx2+fma` or `aarch64+neon`.
pub fn kernel_family() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let mut s = String::from("x86_64");
        if std::arch::is_x86_feature_detected!("avx512f") {
            s.push_str("+avx512f");
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            s.push_str("+avx2");
        }
        if std::arch::is_x86_feature_detected!("fma") {
            s.push_str("+fma");
        }
        s
    }
    #[cfg(target_arch = "aarch64")]
    {
        String::from("aarch64+neon")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        String::from(std::env::consts::ARCH)
    }
}
