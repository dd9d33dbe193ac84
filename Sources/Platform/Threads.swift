#if canImport(Glibc)
import Glibc
#endif
import CSystemShim

/// A joinable OS thread. The pool and the HTTP client need real threads (responder threads blocking in epoll and
/// libfcgi reads, a libcurl event loop), not tasks of the cooperative pool.
public final class OSThread: Sendable {
    private let handle: pthread_t

    private init(handle: pthread_t) { self.handle = handle }

    /// Starts `body` on a new thread named `name` (shown by ps and top, 15 bytes kept).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> OSThread {
        final class Box { let name: String; let body: @Sendable () -> Void
            init(_ name: String, _ body: @escaping @Sendable () -> Void) { self.name = name; self.body = body } }
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            _ = xsys_set_thread_name(box.name)
            box.body()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            throw SystemError("pthread_create", code: result)
        }
        return OSThread(handle: handle)
    }

    /// Waits for the thread to end. Never call it from the thread itself (it would wait for ever).
    public func join() {
        pthread_join(handle, nil)
    }

    /// Lets the thread end on its own, its resources freed then (instead of `join`).
    public func detach() {
        pthread_detach(handle)
    }

    /// True when called on this thread.
    public var isCurrent: Bool {
        pthread_equal(pthread_self(), handle) != 0
    }
}

/// Names the calling thread.
public func setCurrentThreadName(_ name: String) {
    _ = xsys_set_thread_name(name)
}
