/// How the daemon tells its supervisor about its life (systemd's sd_notify). The server
/// knows nothing of systemd; the executable plugs the real notifier in.
package protocol LifecycleNotifier: Sendable {
    func ready()
    func status(_ text: String)
    func stopping()
    func watchdog()
    /// The supervisor's watchdog interval, when it expects keep-alives.
    var watchdogInterval: Duration? { get }
}

/// A notifier for when no supervisor listens.
package struct SilentNotifier: LifecycleNotifier {
    package init() {}
    package func ready() {}
    package func status(_ text: String) {}
    package func stopping() {}
    package func watchdog() {}
    package var watchdogInterval: Duration? { nil }
}
