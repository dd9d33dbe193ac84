// spotify-load: drives the Spotify client with N concurrent requests for one user and prints what happened as
// one JSON line. Used by the client's tests (concurrency, rate ceiling, shared budget across processes) and by
// the client benchmark (Benchmarks/spotify-bench).
import Configuration
import Jobs
import JSON
import Platform
import Spotify
import Synchronization

let usage = "Usage: spotify-load --refresh-token TOKEN --requests N [SETTINGS]"

/// Reads the options and settings, then runs the load.
func main() async -> Int32 {
    do {
        let configuration = try Configuration.load(arguments: Array(Environment.arguments().dropFirst()),
                                                   environment: Environment.all())
        if configuration.helpRequested {
            Console.out(Configuration.help(usage: usage, settings: JobSettings.relevant))
            return 0
        }
        var refreshToken = ""
        var requests = 100
        var rest = configuration.remainingArguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--refresh-token": refreshToken = rest.popFirst() ?? ""
            case "--requests": requests = Int(rest.popFirst() ?? "") ?? -1
            default: throw ConfigurationError(flag, "unknown argument")
            }
        }
        guard !refreshToken.isEmpty, requests > 0 else { throw ConfigurationError("--refresh-token/--requests", usage) }
        let client = try SpotifyAccess.client(settings: try JobSettings.load(configuration))
        Console.out(await run(client, refreshToken: refreshToken, requests: requests))
        return 0
    } catch {
        Console.error("spotify-load: \(error)")
        return 78
    }
}

func threadCount() -> Int {
    let status = (try? Files.readString("/proc/self/status")) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("Threads:") } ?? ""
    return Int(line.dropFirst("Threads:".count).filter { !$0.isWhitespace }) ?? 0
}

func run(_ client: SpotifyClient, refreshToken: String, requests: Int) async -> String {
    let maxThreads = Mutex(threadCount())
    let sampler = Task {
        while !Task.isCancelled {
            let count = threadCount()
            maxThreads.withLock { $0 = max($0, count) }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }
    let started = Monotonic.seconds()
    var outcomes: [String: Int] = [:]
    do {
        let accessToken = try await client.refreshAccessToken(refreshToken).accessToken
        await withTaskGroup(of: String.self) { group in
            for _ in 0..<requests {
                group.addTask {
                    do throws(SpotifyError) {
                        try await client.call(.top(.tracks, range: "short_term", limit: 1), accessToken: accessToken)
                        return "ok"
                    } catch {
                        switch error {
                        case .budgetExhausted: return "budgetExhausted"
                        case .quotaExceeded: return "quotaExceeded"
                        default: return "error"
                        }
                    }
                }
            }
            for await outcome in group { outcomes[outcome, default: 0] += 1 }
        }
    } catch {
        outcomes["refreshFailed"] = 1
    }
    let seconds = Monotonic.seconds() - started
    sampler.cancel()
    await client.close()
    var writer = JSONWriter()
    writer.beginObject()
    writer.key("requests"); writer.int(requests)
    writer.key("outcomes")
    writer.beginObject()
    for (name, count) in outcomes.sorted(by: { $0.key < $1.key }) { writer.key(name); writer.int(count) }
    writer.endObject()
    writer.key("sent"); writer.int(client.counters.total)
    writer.key("status429"); writer.int(client.counters.rateLimited)
    writer.key("seconds"); writer.double((seconds * 1000).rounded() / 1000)
    writer.key("maxThreads"); writer.int(maxThreads.withLock { $0 })
    writer.endObject()
    return String(decoding: writer.bytes, as: UTF8.self)
}

Processes.exitNow(await main())
