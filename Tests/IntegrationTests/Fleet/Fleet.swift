import Foundation
import SidecarClient
import SidecarProtocol
import SidecarTestSupport

/// Two daemons (two sockets, two state directories) sharing one PostgreSQL database, as
/// two hosts of a fleet would.
struct Fleet {
    let hosts: [Daemon]
    let server: PostgresTestServer
    let database: String

    /// Starts `count` daemons on a fresh database of `server`, and waits until each says
    /// in `stats` that its shared state is available.
    static func start(
        on server: PostgresTestServer, count: Int = 2, settings: [String] = []
    ) async throws -> Fleet {
        let database = "fleet_\(UUID().uuidString.prefix(8).lowercased())"
        try await server.createDatabase(database)
        var hosts: [Daemon] = []
        for _ in 0..<count {
            let arguments =
                ["--set", "state_backend=postgres", "--set", "postgres_url=\(server.url(database: database))",
                 "--set", "postgres_password_file=\(server.passwordFile)"]
                + settings.flatMap { ["--set", $0] }
            hosts.append(try await Daemon.start(arguments))
        }
        let fleet = Fleet(hosts: hosts, server: server, database: database)
        for host in hosts { try await fleet.waitUntilStateAvailable(host) }
        return fleet
    }

    /// `stats.state` of `host`.
    func state(_ host: Daemon) async throws -> StatsResult.StateStore? {
        try await SidecarConnection.withConnection(socketPath: host.socketPath) { sidecar in
            try await sidecar.callRaw("stats", params: NoParams?.none).result(as: StatsResult.self)?.state
        }
    }

    func waitUntilStateAvailable(_ host: Daemon, timeout: Duration = .seconds(60)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if try await state(host)?.available == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestEnvironmentError("the daemon's shared state never became available")
    }

    func send(_ params: SendParams, on host: Daemon) async throws -> SidecarConnection.RawResponse {
        try await SidecarConnection.withConnection(socketPath: host.socketPath) { sidecar in
            try await sidecar.callRaw("send", params: params)
        }
    }

    func stop() async {
        for host in hosts { _ = try? await host.stop() }
    }
}

