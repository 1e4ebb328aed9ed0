//! Keeping the process's RSS near its live heap.
//!
//! Every poll decodes the kernel's dumps and builds a new snapshot (tens of
//! MB at thousands of tunnels) while the previous one is still served, then
//! frees the old one. glibc keeps freed heap for reuse: its mmap threshold
//! adapts upwards after the first large free, so later snapshots land on the
//! heap, and the heap is only trimmed from its top, which a single surviving
//! allocation pins. Without help RSS settles near the poll-time peak instead
//! of the live size (measured in the lab at 10,000 tunnels: 44 MB of the
//! collector's 68 MB RSS was freed heap kept by glibc).

/// A fixed mmap threshold keeps large tables in their own mappings,
/// returned on free; a low trim threshold returns the top of the heap.
/// Call once, before anything allocates much.
pub fn limit_retention() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; no memory is touched.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 * 1024);
    }
}

/// Returns the free pages inside the heap to the kernel, not only those at
/// its top. Called after each poll, once the previous snapshot and the
/// decoded dumps are freed; costs a walk over the free chunks (milliseconds
/// at 10,000 tunnels) once per poll interval.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
