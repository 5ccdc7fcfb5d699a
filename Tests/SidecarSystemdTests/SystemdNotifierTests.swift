import Foundation
import SidecarSystemd
import SidecarTestSupport
import Testing

@Suite struct SystemdNotifierTests {
    /// The probe sends to a datagram socket this test binds and names in NOTIFY_SOCKET,
    /// as systemd would for a Type=notify service.
    @Test func notificationsArriveOnTheNotifySocket() async throws {
        let probe = try TestEnvironment.probePath()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("notify").path
        let socket = try UnixSocket.make(UnixSocket.datagram)
        defer { close(socket) }
        try UnixSocket.bindPath(socket, path)

        let run = try await ChildProcess.run(
            probe, ["notify", "--status", "almost\nSTOPPING=1"],
            environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "3000000", "WATCHDOG_PID": nil]
        )
        try #require(run.status == 0, "\(run.summary)")
        let datagrams = try UnixSocket.receiveQueued(socket)
        try #require(datagrams.count == 5, "\(datagrams)")
        // A newline in the status cannot smuggle in a second assignment.
        #expect(datagrams[0] == "READY=1\nSTATUS=almost STOPPING=1")
        #expect(datagrams[1] == "STATUS=probe working")
        #expect(datagrams[2] == "WATCHDOG=1")
        let reloading = datagrams[3].split(separator: "\n")
        #expect(reloading.first == "RELOADING=1")
        #expect(reloading.count == 2 && reloading[1].hasPrefix("MONOTONIC_USEC=")
            && UInt64(reloading[1].dropFirst("MONOTONIC_USEC=".count)).map { $0 > 0 } == true)
        #expect(datagrams[4] == "STOPPING=1")
        #expect(run.stdout.contains("ready=sent\n"))
        #expect(run.stdout.contains("watchdog_interval_ms=3000\n"), "\(run.summary)")
    }

    @Test func withoutNotifySocketEveryCallIsANoOp() async throws {
        let probe = try TestEnvironment.probePath()
        let run = try await ChildProcess.run(
            probe, ["notify"], environment: ["NOTIFY_SOCKET": nil, "WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]
        )
        try #require(run.status == 0, "\(run.summary)")
        for call in ["ready", "status", "watchdog", "reloading", "stopping"] {
            #expect(run.stdout.contains("\(call)=not_supervised\n"), "\(run.summary)")
        }
        #expect(run.stdout.contains("watchdog_interval=off\n"))
    }

    @Test func aVanishedNotifySocketIsReportedNotFatal() async throws {
        let probe = try TestEnvironment.probePath()
        let run = try await ChildProcess.run(
            probe, ["notify"], environment: ["NOTIFY_SOCKET": "/nonexistent/notify", "WATCHDOG_USEC": "not-a-number"]
        )
        try #require(run.status == 0, "\(run.summary)")
        #expect(run.stdout.contains("ready=failed_errno_\(ENOENT)\n"), "\(run.summary)")
        #expect(run.stdout.contains("watchdog_error code=watchdog_unreadable\n"), "\(run.summary)")
    }

    @Test func aWatchdogForAnotherProcessIsOff() async throws {
        let probe = try TestEnvironment.probePath()
        let run = try await ChildProcess.run(
            probe, ["notify"], environment: ["NOTIFY_SOCKET": nil, "WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"]
        )
        #expect(run.stdout.contains("watchdog_interval=off\n"), "\(run.summary)")
    }

    @Test(arguments: [
        (Duration.seconds(30), UInt64(30_000_000)), (.milliseconds(1500), 1_500_000), (.nanoseconds(999), 0),
        (.seconds(-1), 0),
    ])
    func timeoutExtensionsAreWholeMicroseconds(duration: Duration, microseconds: UInt64) {
        #expect(SystemdNotifier.microseconds(duration) == microseconds)
    }
}

@Suite struct NotifyAssignmentTests {
    @Test(arguments: [
        ("listening", "STATUS=listening"),
        ("a\nREADY=1", "STATUS=a READY=1"),
        ("cr\rlf\r\n", "STATUS=cr lf  "),
        ("nul\u{0}end", "STATUS=nul end"),
        ("ls\u{2028}ps\u{2029}nel\u{85}", "STATUS=ls ps nel "),
        ("ünïcode ✓", "STATUS=ünïcode ✓"),
    ])
    func assignmentsAreOneLine(value: String, expected: String) {
        #expect(SystemdNotifier.assignment("STATUS", value) == expected)
    }
}
