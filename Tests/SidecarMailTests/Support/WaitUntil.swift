import Testing

/// Waits until `condition` holds; the bound only guards against a hang on a loaded machine.
func waitUntil(
    within bound: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () -> Bool
) async throws {
    let clock = ContinuousClock()
    let end = clock.now + bound
    while !condition() {
        guard clock.now < end else {
            Issue.record("the condition did not hold within \(bound)", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(2))
    }
}
