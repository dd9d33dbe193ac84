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

    func statusJSON() -> [UInt8] {
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
            busy += slotBusy
            requests += scoreboard.get(slot, .requests)
            slow += scoreboard.get(slot, .slowRequests)
            workers.beginObject()
            workers.key("slot"); workers.int(slot)
            workers.key("pid"); workers.int(Int(scoreboard.get(slot, .pid)))
            workers.key("state"); workers.string(scoreboard.state(slot).name)
            workers.key("startedAt"); workers.int(Int(scoreboard.get(slot, .startedAt)))
            workers.key("requests"); workers.int(Int(scoreboard.get(slot, .requests)))
            workers.key("busyThreads"); workers.int(Int(slotBusy))
            workers.key("idleThreads"); workers.int(max(0, Int(scoreboard.get(.threadsPerWorker)) - Int(slotBusy)))
            workers.key("slowRequests"); workers.int(Int(scoreboard.get(slot, .slowRequests)))
            workers.key("parkedConnections"); workers.int(Int(scoreboard.get(slot, .parkedConnections)))
            workers.key("threads")
            workers.beginArray()
            for thread in 0..<min(Int(scoreboard.get(.threadsPerWorker)), Scoreboard.threadCells) {
                let cell = scoreboard.thread(slot, thread)
                workers.beginObject()
                workers.key("thread"); workers.int(thread)
                workers.key("state"); workers.string(cell.phase.name)
                if cell.phase != .idle {
                    workers.key("sinceMs"); workers.int(Int(cell.sinceMilliseconds))
                    workers.key("forMs"); workers.int(max(0, Int(nowMilliseconds) - Int(cell.sinceMilliseconds)))
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

        let threads = Int(scoreboard.get(.threadsPerWorker))
        writer.beginObject()
        writer.key("pool")
        writer.beginObject()
        writer.key("supervisorPid"); writer.int(Int(scoreboard.get(.supervisorPID)))
        writer.key("startedAt"); writer.int(Int(started))
        writer.key("uptimeSeconds"); writer.int(Int(now >= started ? now - started : 0))
        writer.key("configuredWorkers"); writer.int(Int(scoreboard.get(.configuredWorkers)))
        writer.key("liveWorkers"); writer.int(live)
        writer.key("threadsPerWorker"); writer.int(threads)
        writer.key("busyThreads"); writer.int(Int(busy))
        writer.key("idleThreads"); writer.int(max(0, live * threads - Int(busy)))
        writer.key("acceptedRequests"); writer.int(Int(requests))
        writer.key("slowRequests"); writer.int(Int(slow))
        writer.key("crashes"); writer.int(Int(scoreboard.get(.crashes)))
        writer.key("recycled"); writer.int(Int(scoreboard.get(.recycled)))
        writer.key("reloads"); writer.int(Int(scoreboard.get(.reloads)))
        writer.key("failedReloads"); writer.int(Int(scoreboard.get(.failedReloads)))
        writer.key("requestReadTimeouts"); writer.int(Int(scoreboard.get(.requestReadTimeouts)))
        writer.key("terminatedRequests"); writer.int(Int(scoreboard.get(.terminatedRequests)))
        writer.key("listenQueue"); writer.int(queue.map { $0.waiting } ?? Int(scoreboard.get(.listenQueue)))
        writer.key("maxListenQueue"); writer.int(Int(scoreboard.get(.maxListenQueue)))
        writer.key("listenQueueLength"); writer.int(queue.map { $0.backlog } ?? Int(scoreboard.get(.listenBacklog)))
        writer.endObject()
        writer.key("workers")
        writer.raw(workers.bytes)
        writer.endObject()

        return writer.bytes
    }
}
