import Testing

/// Starts the selected interop servers around a suite (once, not per test) and stops them
/// afterwards, so no server outlives `swift test`.
struct InteropServersTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let servers = try await InteropServers.start(InteropServers.selected)
        do {
            try await InteropServers.$current.withValue(servers) { try await function() }
        } catch {
            await servers.stop()
            throw error
        }
        await servers.stop()
    }
}

extension Trait where Self == InteropServersTrait {
    /// The real SMTP servers of scripts/interop-harness.sh, one of each, for the suite.
    static var interopServers: InteropServersTrait { InteropServersTrait() }
}
