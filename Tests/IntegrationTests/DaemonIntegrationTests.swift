import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Synchronization
import Testing

/// The built `smtp-sidecar` binary, as operators and systemd run it.
@Suite(.serialized) struct DaemonIntegrationTests {
    @Test func socketActivatedDaemonServesPipelinedRequests() async throws {
        let activate = try #require(TestEnvironment.which("systemd-socket-activate"), "systemd-socket-activate is needed")
        let directory = try TestEnvironment.temporaryDirectory()
        let socketPath = directory.appendingPathComponent("activated.sock").path
        let daemon = try ChildProcess(
            activate,
            ["-l", socketPath, "--fdname=smtp-sidecar", try TestEnvironment.sidecarPath(), "serve", "--log-target", "stderr",
             "--socket", directory.appendingPathComponent("never-bound.sock").path,
             "--set", "state_directory=\(directory.appendingPathComponent("state").path)"],
            environment: Daemon.cleanEnvironment, timeout: .seconds(120))
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socketPath) {
            try await Task.sleep(for: .milliseconds(25))
        }
        // The first connection starts the daemon; systemd-socket-activate queues it meanwhile.
        let (hello, pongs, stats) = try await SidecarConnection.withConnection(socketPath: socketPath) { sidecar in
            let hello = try await sidecar.hello(client: "integration")
            let pongs = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<1000 {
                    group.addTask { try await sidecar.ping(data: "\(index)").data }
                }
                var seen: Set<String> = []
                for try await data in group { if let data { seen.insert(data) } }
                return seen
            }
            return (hello, pongs, try await sidecar.stats())
        }
        #expect(hello.version == 1)
        #expect(hello.server == "smtp-sidecar")
        #expect(hello.limits.maxFrameBytes == 32 * 1024 * 1024)
        #expect(pongs == Set((0..<1000).map(String.init)))
        #expect(stats.requests.byOperation["ping"] == 1000)
        #expect(stats.requests.byResult["ok"] == 1001)
        #expect(stats.connections.open == 1)

        daemon.signal(SIGTERM)
        let outcome = try await daemon.wait()
        #expect(outcome.status == 0, "\(outcome.summary)")
        // It served the socket systemd passed, not one of its own.
        #expect(outcome.stderr.contains("inherited fd 3 (smtp-sidecar)"), "\(outcome.summary)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("never-bound.sock").path))
    }

    /// Memory must not grow with the number of requests a connection has carried: it once
    /// did by about 7 KB a request (finished request tasks kept by a plain task group), so
    /// 10,000 requests on one connection would add about 70 MB. The bound is generous: it
    /// tells a leak from allocator noise, not a target (benchmarks measure RSS).
    @Test func memoryDoesNotGrowWithRequestsOnALongLivedConnection() async throws {
        let daemon = try await Daemon.start(["--log-level", "warning"])
        let pid = try #require(daemon.process.programID)
        func residentMegabytes() throws -> Double {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
            let kilobytes = try #require(Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]))
            return kilobytes / 1024
        }
        var before = 0.0
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            for round in 0..<21 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<500 {
                        group.addTask { _ = try await sidecar.ping(data: "\(index)") }
                    }
                    try await group.waitForAll()
                }
                // The first round warms up (buffers, allocator arenas); measure from there.
                if round == 0 { before = try residentMegabytes() }
            }
        }
        let after = try residentMegabytes()
        #expect(after - before < 30, "RSS grew from \(before) MB to \(after) MB over 10,000 requests")
        daemon.process.signal(SIGTERM)
        _ = try await daemon.process.wait()
    }

    /// `event_loop_threads` decides how many NIO event-loop threads the daemon runs (NIO
    /// names them `NIO-SGLTN-<group>-#<n>`); by default one, and requests are served on it.
    @Test(arguments: [(nil, 1), ("2", 2)] as [(String?, Int)])
    func eventLoopThreadsFollowTheSetting(setting: String?, expected: Int) async throws {
        let daemon = try await Daemon.start(setting.map { ["--set", "event_loop_threads=\($0)"] } ?? [])
        let pid = try #require(daemon.process.programID)
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            let pong = try await sidecar.ping(data: "up")
            #expect(pong.data == "up")
        }
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8) }
        #expect(names.filter { $0.hasPrefix("NIO-SGLTN-") }.count == expected, "\(names)")
        let outcome = try await daemon.stop()
        #expect(outcome.status == 0, "\(outcome.summary)")
    }

    /// Our modules import FoundationEssentials only (scripts/check-imports.py checks it), but
    /// postgres-nio, which the shared state backend needs, links full Foundation, so the
    /// daemon maps libFoundation, FoundationInternationalization and ICU (measured on a
    /// release build: 7.5 MB more resident memory at idle, of which 0.7 MB private; the rest
    /// are the libraries' file-backed pages, shared with other processes and reclaimable).
    /// What this checks: the daemon's private memory at idle stays small, so that the
    /// libraries' weight stays where it is cheap.
    @Test func daemonsPrivateMemoryAtIdleIsSmall() async throws {
        let daemon = try await Daemon.start()
        let pid = try #require(daemon.process.programID)
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            let pong = try await sidecar.ping(data: "up")
            #expect(pong.data == "up")
        }
        // Read to the end: /proc reports a size of zero, and a sized read stops at a page.
        let file = try #require(FileHandle(forReadingAtPath: "/proc/\(pid)/status"))
        let status = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        try file.close()
        let anonymous = try #require(
            status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") })
        // About 4.7 MB in a debug build and 4.5 MB in a release build; twice that is a regression.
        #expect(anonymous < 10 * 1024, "RssAnon \(anonymous) kB")
        let outcome = try await daemon.stop()
        #expect(outcome.status == 0, "\(outcome.summary)")
    }

    @Test func sigtermFinishesRequestsInFlightThenExitsZero() async throws {
        let daemon = try await Daemon.start(["--set", "shutdown_timeout_seconds=20"])
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            async let slow = sidecar.ping(data: "finished", delayMs: 1500)
            try await Task.sleep(for: .milliseconds(300))
            let stopped = ContinuousClock.now
            daemon.process.signal(SIGTERM)
            // The request in flight is answered in full despite the signal.
            #expect(try await slow.data == "finished")
            let outcome = try await daemon.process.wait()
            #expect(outcome.status == 0, "\(outcome.summary)")
            #expect(ContinuousClock.now - stopped < .seconds(10))
            #expect(outcome.stderr.contains("Shutting down"))
        }
        // New clients are refused once it is gone, and its socket file is removed.
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
    }

    @Test func shutdownDeadlineBoundsTheDrainAndStillExitsZero() async throws {
        let daemon = try await Daemon.start(["--set", "shutdown_timeout_seconds=1"])
        let client = try await RawClient.connect(daemon.socketPath)
        try await client.writeFrame(#"{"id":"stuck","op":"ping","params":{"delay_ms":10000}}"#)
        try await Task.sleep(for: .milliseconds(200))
        let stopped = ContinuousClock.now
        let outcome = try await daemon.stop()
        #expect(outcome.status == 0, "\(outcome.summary)")
        // Well before the 10 s the stuck request would take: the 1 s deadline cut it short.
        #expect(ContinuousClock.now - stopped < .seconds(8))
        await client.close()
    }

    @Test func peerWhoseUIDIsNotAllowedIsRefusedAndLogged() async throws {
        let daemon = try await Daemon.start(["--set", "allowed_uids=4242424"], environment: [:]) 
        let client = try await RawClient.connect(daemon.socketPath)
        let responses = try await client.responsesUntilClosed()
        #expect(responses.map(\.errorCode) == ["peer_not_allowed"])
        let outcome = try await daemon.stop()
        #expect(outcome.status == 0)
        #expect(outcome.stderr.contains("not allowed"), "\(outcome.summary)")
    }

    @Test func badConfigurationFailsAtStartWithTheReason() async throws {
        let outcome = try await ChildProcess.run(
            try TestEnvironment.sidecarPath(), ["serve", "--set", "max_conections=3", "--log-target", "stderr", "--set", "state_directory=/tmp/never-used"],
            environment: Daemon.cleanEnvironment)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("unknown key \"max_conections\""), "\(outcome.summary)")
    }

    @Test func cliPingAndStatsTalkToTheDaemon() async throws {
        let daemon = try await Daemon.start()
        let ping = try await ChildProcess.run(try TestEnvironment.sidecarPath(), ["ping", "-s", daemon.socketPath, "-c", "50"])
        #expect(ping.status == 0, "\(ping.summary)")
        #expect(ping.stdout.contains("50 pongs"))
        let stats = try await ChildProcess.run(try TestEnvironment.sidecarPath(), ["stats", "-s", daemon.socketPath])
        #expect(stats.status == 0, "\(stats.summary)")
        let json = try JSONValue.parse(Data(stats.stdout.utf8))
        #expect(json["requests"]?["by_operation"]?["ping"] == .integer(50))
        _ = try await daemon.stop()
        let unreachable = try await ChildProcess.run(try TestEnvironment.sidecarPath(), ["ping", "-s", daemon.socketPath])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("cannot reach the sidecar"))
    }
}

/// What the daemon tells systemd, received on a NOTIFY_SOCKET the test binds.
@Suite struct NotifyIntegrationTests {
    @Test func readyStatusWatchdogAndStoppingReachTheSupervisor() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let notifyPath = directory.appendingPathComponent("notify.sock").path
        // Drained continuously, as systemd does: Linux queues at most 10 datagrams per
        // socket by default, and a full queue would block the daemon's sd_notify.
        let notify = try NotifyListener(path: notifyPath)
        defer { notify.stop() }

        let daemon = try await Daemon.start(
            ["--set", "status_interval_seconds=1"],
            environment: ["NOTIFY_SOCKET": notifyPath, "WATCHDOG_USEC": "400000"])
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            _ = try await sidecar.ping()
            try await Task.sleep(for: .milliseconds(1300))
        }
        let outcome = try await daemon.stop()
        #expect(outcome.status == 0, "\(outcome.summary)")
        let messages = notify.stop()
        #expect(messages.filter { $0 == "READY=1" }.count == 1, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("STATUS=") && $0.contains("connections") }, "\(messages)")
        // Keep-alives at half the 400 ms watchdog interval: several in 1.3 s.
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("STOPPING=1") }, "\(messages)")
        #expect(messages.firstIndex { $0.hasPrefix("STOPPING=1") }! > messages.firstIndex(of: "READY=1")!)
    }
}

/// A NOTIFY_SOCKET that a thread of its own reads as datagrams arrive.
final class NotifyListener: Sendable {
    let fd: Int32
    let received = Mutex<[String]>([])
    let stopped = Atomic<Bool>(false)

    init(path: String) throws {
        fd = try UnixSocket.make(UnixSocket.datagram)
        try UnixSocket.bindPath(fd, path)
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !stopped.load(ordering: .relaxed) {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    let message = String(decoding: buffer[..<count], as: UTF8.self)
                    received.withLock { $0.append(message) }
                }
            }
        }
        thread.start()
    }

    /// Stops reading and returns every message received, in order.
    @discardableResult
    func stop() -> [String] {
        if !stopped.exchange(true, ordering: .relaxed) {
            Thread.sleep(forTimeInterval: 0.1)
            close(fd)
        }
        return received.withLock { $0 }
    }
}
