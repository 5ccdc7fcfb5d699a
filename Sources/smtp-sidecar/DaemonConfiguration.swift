import SidecarMail
import SidecarServer

/// Everything `serve` is configured with: each module's own configuration (with its
/// defaults), and what only the executable uses. Read once, by ``ConfigurationLoader``,
/// from a flat `key = value` file, then the environment (`SMTP_SIDECAR_<KEY>`), then
/// command-line overrides, each later source winning. Every key is documented in
/// `packaging/smtp-sidecar.conf`.
struct DaemonConfiguration: Sendable, Equatable {
    var server = SidecarServer.Configuration()
    var mail = MailConfiguration()
    /// Event-loop threads, which also run the daemon's Swift concurrency (`event_loop_threads`).
    /// 0: one per CPU core. Default 1: a send is I/O-bound, and on one thread its steps never
    /// wait on a wake-up of another thread (perf: about 10% less CPU a send than two loops).
    var eventLoopThreads: Int = 1
    /// `trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`.
    var logLevel: String = "info"
    /// `auto` (journald when present, else stderr), `journald` or `stderr`.
    var logTarget: String = "auto"
}
