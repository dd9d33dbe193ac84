import CSystemShim

/// A window of 64-bit atomic counters inside shared memory, addressed by index.
/// Sendable by hand: the pointer never changes and every access to the memory behind it is an atomic operation
/// (CSystemShim's xsys_atomic_*), so threads and processes may share it.
public struct SharedCounters: @unchecked Sendable {
    private let base: UnsafeMutablePointer<UInt64>
    public let count: Int

    public init(memory: SharedMemory, offset: Int, count: Int) {
        precondition(offset % 8 == 0 && offset + count * 8 <= memory.size, "counter window outside the region")
        base = (memory.base + offset).bindMemory(to: UInt64.self, capacity: count)
        self.count = count
    }

    public func load(_ index: Int) -> UInt64 { xsys_atomic_load(base + index) }
    public func store(_ index: Int, _ value: UInt64) { xsys_atomic_store(base + index, value) }
    @discardableResult public func add(_ index: Int, _ delta: UInt64 = 1) -> UInt64 { xsys_atomic_add(base + index, delta) }
    @discardableResult public func subtract(_ index: Int, _ delta: UInt64 = 1) -> UInt64 { xsys_atomic_sub(base + index, delta) }
}
