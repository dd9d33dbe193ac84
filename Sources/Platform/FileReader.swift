#if canImport(Glibc)
import Glibc
#endif

/// A file read front to back in chunks, so that a file of any size is read in bounded memory (the importer's
/// exports run to gigabytes). The descriptor is closed when the reader goes away.
public final class FileReader {
    public let path: String
    private let fd: Int32

    public init(path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        self.path = path
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Up to `maximum` next bytes of the file; empty at its end.
    public func read(maximum: Int = 1 << 16) throws(SystemError) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: maximum)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("read \(path)")
            }
            chunk.removeLast(maximum - count)
            return chunk
        }
    }
}
