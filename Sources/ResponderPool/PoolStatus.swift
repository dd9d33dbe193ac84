import HTTP
import JSON
import Platform

/// The pool's report, in the manner of php-fpm's status page: pool counters, the listen queue and one entry per
/// worker process, with what each of its threads is doing (reading a request, or busy with which one, and for how
/// long). Rendered from the shared scoreboard by whichever worker takes the request (the API serves
/// it as the route `/status`, which nginx keeps to loopback); it touches no database.
struct PoolStatus: PoolStatusSource {
    let scoreboard: Scoreboard
    let listenFD: Int32

    func statusJSON(adding extra: (inout JSONWriter) -> Void) -> [UInt8] {
        let socket = ListeningSocket(fd: listenFD)
        let queue = socket.queue()
        let now = UInt64(WallClock.epochSeconds())
        let nowMilliseconds = UInt64(max(WallClock.now(), 0) * 1000)
        let started = scoreboard.get(.startedAt)

        var busy: UInt64 = 0
        var requests = scoreboard.get(.retiredRequests)
        var slow = scoreboard.get(.retiredSlowRequests)
        var live = 0
        var writer = JSONWriter(capacity: 2048)
        var workers = JSONWriter(capacity: 1024)
        workers.beginArray()
        for slot in 0..<scoreboard.slotCount where scoreboard.state(slot) != .free {
            live += 1
            let slotBusy = scoreboard.get(slot, .busy)
            busy &+= slotBusy
            requests &+= scoreboard.get(slot, .requests)
            slow &+= scoreboard.get(slot, .slowRequests)
            workers.beginObject()
            workers.key("slot"); workers.int(slot)
            workers.key("pid"); workers.int(count(scoreboard.get(slot, .pid)))
            workers.key("state"); workers.string(scoreboard.state(slot).name)
            workers.key("startedAt"); workers.int(count(scoreboard.get(slot, .startedAt)))
            workers.key("requests"); workers.int(count(scoreboard.get(slot, .requests)))
            workers.key("busyThreads"); workers.int(count(slotBusy))
            workers.key("idleThreads"); workers.int(max(0, count(scoreboard.get(.threadsPerWorker)) - count(slotBusy)))
            workers.key("slowRequests"); workers.int(count(scoreboard.get(slot, .slowRequests)))
            workers.key("parkedConnections"); workers.int(count(scoreboard.get(slot, .parkedConnections)))
            workers.key("threads")
            workers.beginArray()
            for thread in 0..<min(count(scoreboard.get(.threadsPerWorker)), Scoreboard.threadCells) {
                let cell = scoreboard.thread(slot, thread)
                workers.beginObject()
                workers.key("thread"); workers.int(thread)
                workers.key("state"); workers.string(cell.phase.name)
                if cell.phase != .idle {
                    workers.key("sinceMs"); workers.int(count(cell.sinceMilliseconds))
                    workers.key("forMs"); workers.int(max(0, count(nowMilliseconds) - count(cell.sinceMilliseconds)))
                }
                if cell.phase == .busy {
                    workers.key("request"); workers.string(cell.request)
                }
                workers.endObject()
            }
            workers.endArray()
            workers.endObject()
        }
        workers.endArray()

        let threads = count(scoreboard.get(.threadsPerWorker))
        writer.beginObject()
        writer.key("pool")
        writer.beginObject()
        writer.key("supervisorPid"); writer.int(count(scoreboard.get(.supervisorPID)))
        writer.key("startedAt"); writer.int(count(started))
        writer.key("uptimeSeconds"); writer.int(Int(now >= started ? now - started : 0))
        writer.key("configuredWorkers"); writer.int(count(scoreboard.get(.configuredWorkers)))
        writer.key("liveWorkers"); writer.int(live)
        writer.key("threadsPerWorker"); writer.int(threads)
        writer.key("busyThreads"); writer.int(count(busy))
        writer.key("idleThreads"); writer.int(max(0, live * threads - count(busy)))
        writer.key("acceptedRequests"); writer.int(count(requests))
        writer.key("slowRequests"); writer.int(count(slow))
        writer.key("crashes"); writer.int(count(scoreboard.get(.crashes)))
        writer.key("recycled"); writer.int(count(scoreboard.get(.recycled)))
        writer.key("reloads"); writer.int(count(scoreboard.get(.reloads)))
        writer.key("failedReloads"); writer.int(count(scoreboard.get(.failedReloads)))
        writer.key("requestReadTimeouts"); writer.int(count(scoreboard.get(.requestReadTimeouts)))
        writer.key("terminatedRequests"); writer.int(count(scoreboard.get(.terminatedRequests)))
        writer.key("listenQueue"); writer.int(queue.map { $0.waiting } ?? count(scoreboard.get(.listenQueue)))
        writer.key("maxListenQueue"); writer.int(count(scoreboard.get(.maxListenQueue)))
        writer.key("listenQueueLength"); writer.int(queue.map { $0.backlog } ?? count(scoreboard.get(.listenBacklog)))
        writer.endObject()
        writer.key("workers")
        writer.raw(workers.bytes)
        extra(&writer)
        writer.endObject()

        return writer.bytes
    }

    /// A counter as a JSON number. Counters are words of shared memory that other processes add to and subtract
    /// from; one that is momentarily below zero (wrapped) reads as 0 rather than trapping the worker that renders.
    private func count(_ value: UInt64) -> Int {
        value > UInt64(Int.max) ? 0 : Int(value)
    }
}
