import CoreMetrics
import Prometheus

/// The daemon's one metrics registry. The server and the mail engine record through
/// swift-metrics on ``factory`` (handed to them, not found through the global bootstrap);
/// `metrics` renders ``registry`` as Prometheus text.
struct DaemonMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// `# HELP` texts by metric name. swift-metrics has no place for them, and the registry
    /// writes none for metrics made through its factory, so ``render(after:)`` adds them.
    let help: [String: String]

    init(help: [String: String]) {
        self.help = help
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // SMTP is slow next to the default buckets (5 ms to 10 s): a send that connects,
        // TLS-handshakes and authenticates takes hundreds of milliseconds, a slow server
        // tens of seconds before the request's timeout.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
            .seconds(60),
        ]
        self.factory = factory
    }

    /// Makes ``factory`` the process's swift-metrics backend, so that a library's metrics
    /// land in the same registry. Once per process, by `serve`.
    func bootstrap() {
        MetricsSystem.bootstrap(factory)
    }

    /// The registry as Prometheus text, after `update` has brought the metrics that are read
    /// rather than counted up to date.
    func render(after update: () -> Void) -> String {
        update()
        return Self.withHelp(registry.emitToString(), help)
    }

    /// `text` with a `# HELP` line before each family's `# TYPE` line: the text from `help`,
    /// or, for a metric a library made through the global factory, a line that says so.
    static func withHelp(_ text: String, _ help: [String: String]) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count + help.count * 96)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst("# TYPE ".count).split(separator: " ").first {
                let name = String(name)
                output += "# HELP \(name) \(help[name] ?? "Recorded through swift-metrics by a library of the daemon.")\n"
            }
            output += line
            output += "\n"
        }
        // The split gave an empty last piece for the text's final newline.
        if output.hasSuffix("\n\n") { output.removeLast() }
        return output
    }
}
