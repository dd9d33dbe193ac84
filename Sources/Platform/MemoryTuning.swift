import CSystemShim
/// Heap behaviour of a worker process.
public enum MemoryTuning {
    /// Keeps buffers of a few hundred KB (a 125 KB answer, its copies) on the heap instead of a fresh mmap each
    /// time, and stops glibc from returning the top of the heap to the kernel after every such answer: otherwise
    /// each request pays page faults for the same memory again. Bounded: at most `retain` bytes stay unreturned.
    public static func keepResponseBuffers(retain: Int32 = 4 << 20) {
        xsys_malloc_thresholds(1 << 20, retain)
    }
}
