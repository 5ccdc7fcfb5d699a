import Foundation
import SidecarTestSupport

/// The interop servers of one suite, started together by ``InteropServersTrait`` before
/// its first test and stopped after its last; tests read them from ``current``.
struct InteropServers: Sendable {
    @TaskLocal static var current: InteropServers?

    let instances: [InteropServer: InteropInstance]

    /// The servers the matrix runs on: every one, or those named in `INTEROP_SERVERS`
    /// (comma-separated, e.g. `INTEROP_SERVERS=exim,chasquid`) to run a part of it.
    static let selected: [InteropServer] = {
        guard let names = ProcessInfo.processInfo.environment["INTEROP_SERVERS"], !names.isEmpty else {
            return InteropServer.allCases
        }
        let wanted = Set(names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        return InteropServer.allCases.filter { wanted.contains($0.rawValue) }
    }()

    /// The harness runs servers as root (private users, a mount namespace for OpenSMTPD).
    static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: InteropInstance.script)
    }

    /// The running instance of `server`.
    static func instance(_ server: InteropServer) throws -> InteropInstance {
        guard let instance = current?.instances[server] else {
            throw TestEnvironmentError("\(server) is not running: the suite needs the .interopServers trait")
        }
        return instance
    }

    /// Installs what the harness needs (quick when present), then starts `servers`
    /// concurrently. If one fails, the others are stopped and the error thrown.
    static func start(_ servers: [InteropServer]) async throws -> InteropServers {
        try await InteropInstance.run(["install"])
        let results = await withTaskGroup(of: (InteropServer, Result<InteropInstance, any Error>).self) { group in
            for server in servers {
                group.addTask {
                    do { return (server, .success(try await InteropInstance.start(server))) } catch {
                        return (server, .failure(error))
                    }
                }
            }
            var results: [(InteropServer, Result<InteropInstance, any Error>)] = []
            for await result in group { results.append(result) }
            return results
        }
        var instances: [InteropServer: InteropInstance] = [:]
        var failures: [String] = []
        for (server, result) in results {
            switch result {
            case .success(let instance): instances[server] = instance
            case .failure(let error): failures.append("\(server): \(error)")
            }
        }
        guard failures.isEmpty else {
            await InteropServers(instances: instances).stop()
            throw TestEnvironmentError("interop servers did not start:\n" + failures.joined(separator: "\n"))
        }
        return InteropServers(instances: instances)
    }

    func stop() async {
        await withTaskGroup(of: Void.self) { group in
            for instance in instances.values { group.addTask { await instance.stop() } }
        }
    }
}
