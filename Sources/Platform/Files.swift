#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and writes, and small descriptor helpers.
public enum Files {
    /// The bytes of the file at `path`.
    public static func read(_ path: String, limit: Int = 16 << 20) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("read \(path)")
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
            if result.count > limit { throw SystemError("read \(path)", code: EFBIG) }
        }
        return result
    }

    public static func readString(_ path: String) throws(SystemError) -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes `bytes` to `path` (created with `mode`, truncated).
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        try writeAll(fd, bytes)
    }

    /// Writes every byte to `fd`, retrying short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("write")
            }
            offset += count
        }
    }

    /// The bytes of the regular file at `path` with one read into an array of its size (no copy beyond the
    /// kernel's), or nil when there is none, it is larger than `limit`, or it cannot be read whole.
    public static func readWhole(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(info.st_size)
        guard size > 0, size <= limit else { return nil }
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var offset = 0
            while offset < size {
                let got = pread(fd, buffer.baseAddress! + offset, size - offset, off_t(offset))
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                offset += got
            }
            complete = offset == size
            count = complete ? size : 0
        }
        return complete ? bytes : nil
    }

    /// Writes `parts` one after the other to `temporary` (created with `mode`), then renames it to `path`: a
    /// reader opens either the previous file or the new one whole, never a half-written one.
    public static func replace(_ path: String, with parts: [[UInt8]], temporary: String,
                               mode: mode_t = 0o600) throws(SystemError) {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("open \(temporary)") }
        do {
            for part in parts where !part.isEmpty { try writeAll(fd, part) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let failure = SystemError("rename \(temporary)")
            unlink(temporary)
            throw failure
        }
    }

    /// When the file at `path` was last modified (nanoseconds since the epoch), nil when there is none.
    public static func modificationTime(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }

    /// Removes the file at `path` (nothing when there is none).
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Creates the directory `path` with `mode` unless it exists.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(SystemError) {
        guard mkdir(path, mode) == 0 || errno == EEXIST else { throw SystemError("mkdir \(path)") }
        guard isDirectory(path) else { throw SystemError("mkdir \(path)", code: ENOTDIR) }
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// True when the two paths name the same file (device and inode, links followed), nil when either cannot
    /// be examined. `/proc/<pid>/exe` names a process's executable even after the file was replaced.
    public static func sameFile(_ first: String, _ second: String) -> Bool? {
        var a = stat()
        var b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return nil }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// The target of a symbolic link (for `/proc/<pid>/exe`, the executable's path, with " (deleted)" after a
    /// replaced one), or nil.
    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when `path` is a directory (or a link to one).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }


    /// The names in a directory, sorted.
    public static func list(_ directory: String) throws(SystemError) -> [String] {
        guard let dir = opendir(directory) else { throw SystemError("opendir \(directory)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

/// Unbuffered writes to standard output and error (safe before `_exit`).
public enum Console {
    public static func out(_ text: String) {
        try? Files.writeAll(1, Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    public static func error(_ text: String) {
        try? Files.writeAll(2, Array((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }
}

extension Console {
    /// True when standard error is a terminal (progress lines are for people, not for the journal).
    public static var errorIsTerminal: Bool { isatty(2) == 1 }

    /// Writes to standard error as is (progress lines that rewrite themselves with \r).
    public static func errorRaw(_ text: String) {
        try? Files.writeAll(2, Array(text.utf8))
    }
}
