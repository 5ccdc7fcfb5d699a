// state-crash-probe: a helper for SidecarStateTests' kill -9 tests. It does one thing to
// the state database, prints "ready", and then sleeps until it is killed, so the test
// can SIGKILL it at a known point and check what the next process finds.
//
//   state-crash-probe DB dedup-begin KEY WINDOW_SECONDS
//       begins a dedup record (it stays `reserved`: the "send" never reaches its server)
//   state-crash-probe DB dedup-send KEY WINDOW_SECONDS
//       begins a dedup record and marks it `pending`, as just before MAIL FROM (the "send"
//       never finishes)
//   state-crash-probe DB rate-acquire KEY COUNT PER_MINUTE DAILY
//       acquires COUNT sends under the given limits (0 = no such limit)
//   state-crash-probe DB hold-transaction KEY
//       inserts a dedup record inside a transaction and is killed before it commits
import Foundation
import SidecarState

/// Writes a line to stdout unbuffered, so the test sees it before the kill.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data("\(text)\n".utf8))
}

func fail(_ text: String) -> Never {
    FileHandle.standardError.write(Data("state-crash-probe: \(text)\n".utf8))
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: state-crash-probe DB dedup-begin|rate-acquire ...") }

do {
    let database = try StateDatabase(path: arguments[1])
    switch arguments[2] {
    case "dedup-begin", "dedup-send":
        guard arguments.count == 5, let seconds = Int(arguments[4]) else { fail("\(arguments[2]) KEY WINDOW_SECONDS") }
        let store = DedupStore(database: database)
        switch try store.begin(key: arguments[3], window: .seconds(seconds), now: Date()) {
        case .proceed(let ticket):
            if arguments[2] == "dedup-send" {
                guard try store.markPending(ticket) else { fail("the record was not this probe's") }
            }
            say("ready proceed")
        case .duplicate: say("ready duplicate")
        case .inProgress: say("ready in_progress")
        case .abandoned: say("ready abandoned")
        }
    case "rate-acquire":
        guard arguments.count == 7, let count = Int(arguments[4]), let perMinute = Int(arguments[5]), let daily = Int(arguments[6])
        else { fail("rate-acquire KEY COUNT PER_MINUTE DAILY") }
        let limits = RateLimits(rate: perMinute > 0 ? .perMinute(perMinute) : nil, daily: daily > 0 ? daily : nil)
        let limiter = RateLimiter(database: database)
        var allowed = 0
        for _ in 0..<count {
            if case .allowed = try limiter.acquire(key: arguments[3], limits: limits, now: Date()) { allowed += 1 }
        }
        say("ready allowed=\(allowed)")
    case "hold-transaction":
        guard arguments.count == 4 else { fail("hold-transaction KEY") }
        try database.withTransaction { connection in
            try connection.run(
                "INSERT INTO dedup (key, state, created_ms, expires_ms, owner, token) VALUES (?, 'pending', 0, 0, 'probe', 'probe')",
                [.text(arguments[3])]
            )
            say("ready holding")
            while true { pause() }
        }
    default:
        fail("unknown command \(arguments[2])")
    }
    while true { pause() }
} catch {
    fail("\(error)")
}
