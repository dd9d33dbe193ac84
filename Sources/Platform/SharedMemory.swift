#if canImport(Glibc)
import Glibc
#endif
import CSystemShim

/// A region of memory shared between the supervisor and its workers (the scoreboard), backed by a memfd
/// that children inherit by descriptor number.
///
/// Sendable by hand: its properties never change after init, and the mapping lives as long as the object; what
/// is inside is read and written only through `SharedCounters`' atomics.
public final class SharedMemory: @unchecked Sendable {
    public let fd: Int32
    public let size: Int
    public let base: UnsafeMutableRawPointer

    /// Creates a zeroed region of `size` bytes.
    public convenience init(creating name: String, size: Int) throws(SystemError) {
        let fd = xsys_memfd(name, UInt(size))
        guard fd >= 0 else { throw SystemError("memfd_create", code: -fd) }
        try self.init(mapping: fd, size: size)
    }

    /// Maps an inherited region.
    public init(mapping fd: Int32, size: Int) throws(SystemError) {
        guard let pointer = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
              pointer != MAP_FAILED else { throw SystemError("mmap") }
        self.fd = fd
        self.size = size
        self.base = pointer
    }

    deinit {
        munmap(base, size)
        close(fd)
    }
}

