import Dispatch
import Synchronization

/// A thread of its own that runs submitted work one item at a time, in order. For blocking work (libpq calls)
/// that async code must not do on Swift's cooperative threads: `run` suspends the caller, the work runs here, and
/// the caller resumes with its result.
public final class SerialThread: Sendable {
    private struct Queue {
        var work: [@Sendable () -> Void] = []
        var stopping = false
    }

    /// What the thread and its submitters share.
    private final class Shared: Sendable {
        let queue = Mutex(Queue())
        /// Signalled once per queued item, and once more by `stop`.
        let ready = DispatchSemaphore(value: 0)
    }

    private let shared = Shared()
    private let thread = Mutex<OSThread?>(nil)

    public init(name: String) throws(SystemError) {
        let shared = self.shared
        let started = try OSThread.start(name: name) {
            while true {
                shared.ready.wait()
                let next = shared.queue.withLock { state -> (@Sendable () -> Void)? in
                    state.work.isEmpty ? nil : state.work.removeFirst()
                }
                guard let next else { return } // woken with nothing queued: stop() was called
                next()
            }
        }
        thread.withLock { $0 = started }
    }

    /// Queues `work`; false when the thread is stopping (the work is not run).
    @discardableResult
    public func submit(_ work: @escaping @Sendable () -> Void) -> Bool {
        let accepted = shared.queue.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.work.append(work)
            return true
        }
        if accepted { shared.ready.signal() }
        return accepted
    }

    /// Runs `body` on this thread and returns its result to the awaiting task. `whenStopped` is the error when
    /// the thread no longer takes work.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T,
                                 whenStopped: @autoclosure () -> any Error) async throws -> T {
        let stopped = whenStopped()
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            let accepted = submit {
                do { continuation.resume(returning: .success(try body())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !accepted { continuation.resume(returning: .failure(stopped)) }
        }
        return try result.get()
    }

    /// Lets the queued work finish, then ends the thread and waits for it (never from the thread itself).
    public func stop() {
        let first = shared.queue.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else { return }
        shared.ready.signal() // the extra wake with an empty queue ends the loop once the queue is drained
        let running = thread.withLock { current -> OSThread? in
            defer { current = nil }
            return current
        }
        guard let running else { return }
        if running.isCurrent { running.detach() } else { running.join() }
    }

    deinit { stop() }
}
