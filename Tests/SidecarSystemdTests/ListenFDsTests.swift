import Foundation
import SidecarSystemd
import SidecarTestSupport
import Testing

@Suite struct ListenFDsTests {
    @Test func onlyAListeningUnixStreamSocketQualifies() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let listening = try UnixSocket.make(UnixSocket.stream)
        defer { close(listening) }
        try UnixSocket.bindPath(listening, directory.appendingPathComponent("listening").path)
        #expect(!SystemdListenFDs.isUnixStreamListener(listening), "bound but not yet listening")
        #expect(listen(listening, 8) == 0)
        #expect(SystemdListenFDs.isUnixStreamListener(listening))

        let datagram = try UnixSocket.make(UnixSocket.datagram)
        defer { close(datagram) }
        try UnixSocket.bindPath(datagram, directory.appendingPathComponent("datagram").path)
        #expect(!SystemdListenFDs.isUnixStreamListener(datagram))

        let tcp = try UnixSocket.make(UnixSocket.stream, family: AF_INET)
        defer { close(tcp) }
        #expect(listen(tcp, 8) == 0)
        #expect(!SystemdListenFDs.isUnixStreamListener(tcp), "a TCP listener is not a Unix socket")

        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        defer { close(pipeEnds[0]); close(pipeEnds[1]) }
        #expect(!SystemdListenFDs.isUnixStreamListener(pipeEnds[0]))
        #expect(!SystemdListenFDs.isUnixStreamListener(-1))
    }

    @Test func notSocketActivatedMeansNoSockets() async throws {
        let probe = try TestEnvironment.probePath()
        let plain = try await ChildProcess.run(probe, ["listen-fds"], environment: ["LISTEN_FDS": nil, "LISTEN_PID": nil])
        #expect(plain.stdout.hasPrefix("count=0\n"), "\(plain.summary)")
        // LISTEN_PID names another process: the variables are not for us.
        let other = try await ChildProcess.run(probe, ["listen-fds"], environment: ["LISTEN_FDS": "1", "LISTEN_PID": "1"])
        #expect(other.stdout.hasPrefix("count=0\n"), "\(other.summary)")
    }

    /// systemd-socket-activate (without --accept) listens, waits for the first client, then
    /// execs the program with the listening socket as fd 3, like a .socket unit.
    @Test func socketActivationPassesTheNamedListener() async throws {
        let activate = try #require(TestEnvironment.which("systemd-socket-activate"), "systemd-socket-activate missing")
        let probe = try TestEnvironment.probePath()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sidecar.sock").path

        let child = try ChildProcess(
            activate, ["-l", path, "--fdname=smtp-sidecar", probe, "listen-fds", "--serve"], timeout: .seconds(30)
        )
        try await Self.waitForFile(path)
        let client = try UnixSocket.make(UnixSocket.stream)
        defer { close(client) }
        try UnixSocket.connectPath(client, path)
        let reply = try UnixSocket.readToEnd(client)
        let run = try await child.wait()

        #expect(reply == "hello fd=3 name=smtp-sidecar\n", "\(run.summary)")
        #expect(run.status == 0, "\(run.summary)")
        #expect(run.stdout.hasPrefix("count=1\nfd=3 name=smtp-sidecar\n"), "\(run.summary)")
        #expect(run.stdout.contains("listen_fds_env=unset\n"), "the environment is unset for children")
        #expect(run.stdout.contains("second_take_count=0\n"), "the sockets can be taken once")
    }

    @Test func severalSocketsKeepTheirOrderAndNames() async throws {
        let activate = try #require(TestEnvironment.which("systemd-socket-activate"), "systemd-socket-activate missing")
        let probe = try TestEnvironment.probePath()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("first.sock").path
        let second = directory.appendingPathComponent("second.sock").path

        let child = try ChildProcess(
            activate, ["-l", first, "-l", second, "--fdname=control:data", probe, "listen-fds"], timeout: .seconds(30)
        )
        try await Self.waitForFile(second)
        let client = try UnixSocket.make(UnixSocket.stream)
        defer { close(client) }
        try UnixSocket.connectPath(client, first)
        let run = try await child.wait()
        #expect(run.status == 0, "\(run.summary)")
        #expect(run.stdout.hasPrefix("count=2\nfd=3 name=control\nfd=4 name=data\n"), "\(run.summary)")
    }

    @Test func aDatagramSocketIsRefused() async throws {
        let activate = try #require(TestEnvironment.which("systemd-socket-activate"), "systemd-socket-activate missing")
        let probe = try TestEnvironment.probePath()
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("datagram.sock").path

        let child = try ChildProcess(activate, ["--datagram", "-l", path, probe, "listen-fds"], timeout: .seconds(30))
        try await Self.waitForFile(path)
        let client = try UnixSocket.make(UnixSocket.datagram)
        defer { close(client) }
        try UnixSocket.send(client, to: path, "wake up")
        let run = try await child.wait()
        #expect(run.status == 1, "\(run.summary)")
        #expect(run.stdout == "error code=listen_fd_not_unix_stream_listener\n", "\(run.summary)")
    }

    static func waitForFile(_ path: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !FileManager.default.fileExists(atPath: path) {
            guard ContinuousClock.now < deadline else { throw TestEnvironmentError("\(path) did not appear") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
