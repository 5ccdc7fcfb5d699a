import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import SidecarTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Duplicate suppression in the real daemon against a server that accepts connections and
/// never says a word (a tarpit): the first of two identical sends stays before its SMTP
/// transaction for as long as the test wants.
@Suite(.serialized) struct DedupTarpitIntegrationTests {
    /// A listening socket on 127.0.0.1: the kernel completes handshakes into its backlog,
    /// and nothing ever accepts or answers them.
    final class Tarpit {
        let descriptor: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, bound == 0, listen(fd, 128) == 0 else {
                throw TestEnvironmentError("cannot listen on 127.0.0.1 (errno \(errno))")
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            descriptor = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        /// Connections taken from the backlog, kept open and never answered.
        private var accepted: [Int32] = []

        /// Takes a connection waiting in the backlog, if there is one (never blocks).
        func acceptPending() -> Bool {
            var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, 0) == 1 else { return false }
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { return false }
            accepted.append(client)
            return true
        }

        deinit {
            close(descriptor)
            for client in accepted { close(client) }
        }
    }

    func params(port: Int, timeoutMs: Int? = nil) -> SendParams {
        var params = SendParams(
            workspaceID: "ws-tarpit",
            credential: CredentialParams(id: "cred-tarpit", host: "127.0.0.1", port: port, security: CredentialParams.Security.none, auth: CredentialParams.AuthMechanism.none))
        params.from = "sender@example.test"
        params.to = ["rcpt@example.test"]
        params.subject = "tarpit"
        params.text = "never delivered"
        params.timeoutMs = timeoutMs
        return params
    }

    func call(_ params: SendParams, _ daemon: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: daemon.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
    }

    /// `call`, or nil when no answer came within `bound` (a safety net against a hang, not
    /// a measurement).
    func call(_ params: SendParams, _ daemon: Daemon, within bound: Duration) async throws -> SidecarConnection.RawResponse? {
        try await withThrowingTaskGroup(of: SidecarConnection.RawResponse?.self) { group in
            group.addTask { try await call(params, daemon) }
            group.addTask {
                try await Task.sleep(for: bound)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// The states of the dedup records in `state`.
    func states(_ state: String) async throws -> [String] {
        let sqlite3 = try #require(TestEnvironment.which("sqlite3"), "sqlite3 is not installed")
        let outcome = try await ChildProcess.run(sqlite3, ["\(state)/state.sqlite3", "SELECT state FROM dedup"])
        return outcome.stdout.split(whereSeparator: \.isNewline).map(String.init)
    }

    /// Waits until the daemon's connection to `tarpit` arrives (the first send is in its
    /// SMTP connection's set-up, before any transaction). The tarpit accepts it and never
    /// answers, so the send stays where it is.
    func waitForConnection(to tarpit: Tarpit) async throws {
        for _ in 0..<600 {
            if tarpit.acceptPending() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestEnvironmentError("the first send never connected to the tarpit on port \(tarpit.port)")
    }

    // Issue 21 item 2c: on d967eb0 the second send waited for the first (here for the
    // greeting timeout, 5 minutes) whatever its own timeout_ms.
    @Test func aWaitingDuplicateAnswersRequestTimeoutAtItsOwnDeadline() async throws {
        let tarpit = try Tarpit()
        let state = try TestEnvironment.temporaryDirectory().appendingPathComponent("state").path
        let daemon = try await Daemon.start(stateDirectory: state)
        let port = tarpit.port
        let first = Task { try await call(params(port: port), daemon) }
        do {
            try await waitForConnection(to: tarpit)
        } catch {
            first.cancel()
            daemon.process.signal(SIGKILL)
            let outcome = try await daemon.process.wait()
            let answer = try? await first.value
            throw TestEnvironmentError("\(error)\nfirst: \(answer.map { String(decoding: $0.json, as: UTF8.self) } ?? "none")\n\(outcome.summary.suffix(4000))")
        }
        let second = try #require(
            try await call(params(port: tarpit.port, timeoutMs: 800), daemon, within: .seconds(60)),
            "the waiting duplicate did not answer")
        #expect(second.error?.code == .requestTimeout)
        #expect(second.error?.retryable == true)
        first.cancel()
        daemon.process.signal(SIGKILL)
        _ = try await daemon.process.wait()
    }

    // Issue 21 item 16: on d967eb0 the record was `pending` ("may have been sent") before a
    // connection was even obtained, so after kill -9 the identical send was refused with
    // outcome_unknown for the rest of the hour although nothing had been sent.
    @Test func aSendKilledBeforeItsTransactionDoesNotBlockTheNextIdenticalSend() async throws {
        let tarpit = try Tarpit()
        let state = try TestEnvironment.temporaryDirectory().appendingPathComponent("state").path
        let daemon = try await Daemon.start(stateDirectory: state)
        let port = tarpit.port
        let first = Task { try? await call(params(port: port), daemon) }
        try await waitForConnection(to: tarpit)
        // Nothing may have left: nothing is written that says so.
        #expect(try await states(state) == [])
        daemon.process.signal(SIGKILL)
        _ = try await daemon.process.wait()
        first.cancel()

        let restarted = try await Daemon.start(stateDirectory: state)
        let retry = try #require(
            try await call(params(port: tarpit.port, timeoutMs: 800), restarted, within: .seconds(60)),
            "the retry did not answer")
        // It was allowed to try (and, against the tarpit, timed out without sending).
        #expect(retry.error?.code != .outcomeUnknown)
        #expect(retry.error != nil)
        restarted.process.signal(SIGKILL)
        _ = try await restarted.process.wait()
    }

    /// A server that accepts and never greets, with no timeout_ms: when the daemon's wait
    /// limit passes, the answer says the server was slow (`timeout`, phase connect), not
    /// that the account's connections were busy (`pool_busy`, which it said before).
    @Test func aServerThatNeverGreetsIsATimeoutNotABusyPool() async throws {
        let tarpit = try Tarpit()
        let daemon = try await Daemon.start(["--set", "pool_max_wait_seconds=1"])
        var params = params(port: tarpit.port)
        params.dedupWindowSeconds = 0
        let response = try #require(try await call(params, daemon, within: .seconds(60)), "no answer")
        #expect(response.error?.code == .timeout, "\(String(decoding: response.json, as: UTF8.self))")
        #expect(response.error?.retryable == true)
        let result = try? response.result(as: SendResult.self)
        #expect(result?.outcome == .notSent)
        #expect(result?.phase == "connect")
        _ = try await daemon.stop()
    }
}
