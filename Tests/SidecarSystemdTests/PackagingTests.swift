import Foundation
import SidecarTestSupport
import Testing

/// The files under packaging/: the units pass `systemd-analyze verify` without a word,
/// the sysusers file creates the user and group the units name, and the units, the
/// example configuration and the daemon's defaults agree with each other.
@Suite struct PackagingTests {
    static let execStart = "ExecStart=/usr/bin/smtp-sidecar serve --config /etc/smtp-sidecar/smtp-sidecar.conf"

    /// Copies of the units in a temporary directory, with ExecStart= pointing at a stub
    /// executable there (systemd-analyze wants the binary to exist).
    struct StagedUnits {
        var directory: URL
        var socket: URL { directory.appendingPathComponent("units/smtp-sidecar.socket") }
        var service: URL { directory.appendingPathComponent("units/smtp-sidecar.service") }

        init(serviceText: String? = nil) throws {
            let packaging = try PackagingTests.packaging()
            directory = try TestEnvironment.temporaryDirectory()
            let units = directory.appendingPathComponent("units")
            let bin = directory.appendingPathComponent("root/usr/bin")
            try FileManager.default.createDirectory(at: units, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
            let stub = bin.appendingPathComponent("smtp-sidecar")
            try "#!/bin/sh\nexit 0\n".write(to: stub, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stub.path)

            try FileManager.default.copyItem(at: packaging.appendingPathComponent("smtp-sidecar.socket"), to: socket)
            let original = try serviceText
                ?? String(contentsOf: packaging.appendingPathComponent("smtp-sidecar.service"), encoding: .utf8)
            let staged = original.replacingOccurrences(of: "ExecStart=/usr/bin/smtp-sidecar ",
                                                       with: "ExecStart=\(stub.path) ")
            try staged.write(to: service, atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    static func packaging() throws -> URL {
        try TestEnvironment.repositoryRoot().appendingPathComponent("packaging")
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: packaging().appendingPathComponent(name), encoding: .utf8)
    }

    /// `Key=value` settings of a unit file (every value of a repeated key, in order).
    static func settings(_ unit: String) -> [String: [String]] {
        var settings: [String: [String]] = [:]
        for line in unit.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("[") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            settings[String(parts[0]), default: []].append(String(parts[1]))
        }
        return settings
    }

    /// `key = value` lines of the configuration file.
    static func configuration(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            values[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    func analyzeVerify(_ units: StagedUnits) async throws -> ChildProcess.Outcome {
        let analyze = try #require(TestEnvironment.which("systemd-analyze"), "systemd-analyze is not installed")
        return try await ChildProcess.run(analyze, ["verify", "--man=no", units.socket.path, units.service.path])
    }

    @Test func unitsVerifyWithoutAnyOutput() async throws {
        #expect(try Self.text("smtp-sidecar.service").contains(Self.execStart + "\n"))
        let units = try StagedUnits()
        defer { units.remove() }
        let run = try await analyzeVerify(units)
        // systemd-analyze exits 0 on parse warnings: any output at all is a failure.
        #expect(run.status == 0, "\(run.summary)")
        #expect(run.stdout.isEmpty && run.stderr.isEmpty, "\(run.summary)")
    }

    /// The check above would catch a mistake: a unit with an unknown key makes output.
    @Test func verifyReportsAMistake() async throws {
        let broken = try Self.text("smtp-sidecar.service").replacingOccurrences(
            of: "NoNewPrivileges=yes", with: "NoNewPrivileges=yes\nProtectEverything=yes")
        let units = try StagedUnits(serviceText: broken)
        defer { units.remove() }
        let run = try await analyzeVerify(units)
        #expect(run.stderr.contains("ProtectEverything"), "\(run.summary)")
    }

    @Test func serviceExposureIsLow() async throws {
        let analyze = try #require(TestEnvironment.which("systemd-analyze"), "systemd-analyze is not installed")
        let units = try StagedUnits()
        defer { units.remove() }
        let run = try await ChildProcess.run(analyze, ["security", "--offline=yes", "--no-pager", units.service.path])
        let marker = "Overall exposure level for smtp-sidecar.service: "
        let line = try #require(run.stdout.split(separator: "\n").first { $0.contains(marker) }, "\(run.summary)")
        let score = try #require(Double(line.components(separatedBy: marker)[1].split(separator: " ")[0]))
        #expect(score <= 2.0, "\(line)")
    }

    @Test func sysusersCreatesTheUserAndGroupTheUnitsName() async throws {
        let sysusers = try #require(TestEnvironment.which("systemd-sysusers"), "systemd-sysusers is not installed")
        let root = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        let file = try Self.packaging().appendingPathComponent("smtp-sidecar.sysusers").path
        let run = try await ChildProcess.run(sysusers, ["--root=\(root.path)", file])
        try #require(run.status == 0, "\(run.summary)")

        let passwd = try String(contentsOf: root.appendingPathComponent("etc/passwd"), encoding: .utf8)
        let group = try String(contentsOf: root.appendingPathComponent("etc/group"), encoding: .utf8)
        let user = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("smtp-sidecar:") }, "\(passwd)")
        let groupLine = try #require(group.split(separator: "\n").first { $0.hasPrefix("smtp-sidecar:") }, "\(group)")
        let userFields = user.split(separator: ":", omittingEmptySubsequences: false)
        let gid = groupLine.split(separator: ":", omittingEmptySubsequences: false)[2]
        #expect(userFields[3] == gid, "the user's primary group is smtp-sidecar")
        #expect(Int(userFields[2]).map { $0 > 0 && $0 < 1000 } == true, "a system UID: \(user)")
        #expect(userFields[6] == "/usr/sbin/nologin")

        let service = Self.settings(try Self.text("smtp-sidecar.service"))
        let socket = Self.settings(try Self.text("smtp-sidecar.socket"))
        #expect(service["User"] == ["smtp-sidecar"] && service["Group"] == ["smtp-sidecar"])
        #expect(socket["SocketGroup"] == ["smtp-sidecar"])
    }

    @Test func unitsAndConfigurationAgree() throws {
        let service = Self.settings(try Self.text("smtp-sidecar.service"))
        let socket = Self.settings(try Self.text("smtp-sidecar.socket"))
        let configuration = Self.configuration(try Self.text("smtp-sidecar.conf"))

        #expect(socket["ListenStream"] == [configuration["socket_path"] ?? ""])
        #expect(socket["FileDescriptorName"] == ["smtp-sidecar"])
        #expect(socket["SocketMode"] == ["0660"])
        #expect(socket["RemoveOnStop"] == ["yes"])
        #expect(service["Type"] == ["notify"] && service["NotifyAccess"] == ["main"])
        #expect(service["WatchdogSec"] == ["30s"])
        // systemd's SIGKILL comes 5 s after the daemon's own drain deadline.
        let drain = try #require(configuration["shutdown_timeout_seconds"].flatMap(Int.init))
        #expect(service["TimeoutStopSec"] == ["\(drain + 5)s"])
        #expect(service["StateDirectory"] == ["smtp-sidecar"])
        #expect(configuration["state_directory"] == "/var/lib/smtp-sidecar")
        // The service must not own (and on stop delete) the socket's directory.
        #expect(service["RuntimeDirectory"] == nil)
        #expect(service["PrivateUsers"] == nil, "SO_PEERCRED needs real peer IDs")
        #expect(service["CapabilityBoundingSet"] == [""] && service["AmbientCapabilities"] == [""])
    }

    @Test func exampleConfigurationDocumentsEveryKeyWithItsDefault() throws {
        let text = try Self.text("smtp-sidecar.conf")
        let expected: [String: String] = [
            "socket_path": "/run/smtp-sidecar/smtp-sidecar.sock", "socket_mode": "0660", "socket_group": "",
            "allowed_uids": "", "allowed_gids": "", "max_connections": "256", "max_in_flight_per_connection": "32",
            "max_frame_bytes": "33554432", "idle_timeout_seconds": "300", "shutdown_timeout_seconds": "25",
            "status_interval_seconds": "5", "metrics_listen": "", "event_loop_threads": "1", "log_level": "info", "log_target": "auto",
            "smtp_client_name": "", "state_directory": "/var/lib/smtp-sidecar", "pool_enabled": "true",
            "pool_max_connections_per_key": "4", "pool_max_connections": "64",
            "pool_max_connections_per_workspace": "", "pool_max_connections_per_server": "", "pool_max_wait_seconds": "10",
            "pool_idle_timeout_seconds": "30", "pool_max_connection_age_seconds": "300",
            "pool_max_messages_per_connection": "100", "pool_check_after_idle_seconds": "5",
            "egress_allowed_cidrs": "", "dedup_window_seconds": "3600", "state_purge_interval_seconds": "300",
            "credential_key_file": "",
            "attachment_max_bytes": "25000000", "attachment_timeout_seconds": "30",
            "state_backend": "sqlite", "postgres_url": "", "postgres_password_file": "", "postgres_pool_size": "4",
            "postgres_statement_timeout_ms": "5000", "postgres_table_prefix": "smtp_sidecar_", "state_lease_seconds": "15",
            "state_fail_open": "false",
        ]
        #expect(Self.configuration(text) == expected)
        // Every setting is preceded by a comment that explains it.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.hasPrefix("#") && line.contains("=") {
            #expect(index > 0 && lines[index - 1].hasPrefix("# "), "undocumented: \(line)")
        }
        #expect(text.contains("SMTP_SIDECAR_<KEY IN UPPER CASE>"))
    }

    @Test func debPackageHoldsTheFilesWithTheConfigurationAsConffile() async throws {
        let dpkgDeb = try #require(TestEnvironment.which("dpkg-deb"), "dpkg-deb is not installed")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stub = directory.appendingPathComponent("smtp-sidecar")
        try "#!/bin/sh\nexit 0\n".write(to: stub, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stub.path)

        let build = try await ChildProcess.run(
            try Self.packaging().appendingPathComponent("build-deb.sh").path,
            ["--binary", stub.path, "--version", "1.2.3", "--output", directory.path]
        )
        try #require(build.status == 0, "\(build.summary)")
        let deb = build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix("/smtp-sidecar_1.2.3_\(deb.split(separator: "_").last ?? "")"))

        let contents = try await ChildProcess.run(dpkgDeb, ["--contents", deb])
        for path in [
            "./usr/bin/smtp-sidecar", "./lib/systemd/system/smtp-sidecar.socket",
            "./lib/systemd/system/smtp-sidecar.service", "./usr/lib/sysusers.d/smtp-sidecar.conf",
            "./etc/smtp-sidecar/smtp-sidecar.conf",
        ] {
            #expect(contents.stdout.contains(" \(path)\n"), "\(path) missing: \(contents.summary)")
        }
        #expect(contents.stdout.contains("-rwxr-xr-x root/root"), "the binary is executable and owned by root")
        let conffiles = try await ChildProcess.run(dpkgDeb, ["--info", deb, "conffiles"])
        #expect(conffiles.stdout == "/etc/smtp-sidecar/smtp-sidecar.conf\n", "\(conffiles.summary)")
        let postinst = try await ChildProcess.run(dpkgDeb, ["--info", deb, "postinst"])
        #expect(postinst.stdout.contains("systemd-sysusers smtp-sidecar.conf"))
        #expect(postinst.stdout.contains("systemctl daemon-reload"))
    }
}
