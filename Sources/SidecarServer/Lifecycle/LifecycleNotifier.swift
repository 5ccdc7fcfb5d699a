/// How the daemon tells its supervisor about its life (systemd's sd_notify). The server
/// knows nothing of systemd; the executable plugs the real notifier in.
public protocol LifecycleNotifier: Sendable {
    func ready()
    func status(_ text: String)
    func stopping()
    func watchdog()
    /// The supervisor's watchdog interval, when it expects keep-alives.
    var watchdogInterval: Duration? { get }
}

/// A notifier for when no supervisor listens.
public struct SilentNotifier: LifecycleNotifier {
    public init() {}
    public func ready() {}
    public func status(_ text: String) {}
    public func stopping() {}
    public func watchdog() {}
    public var watchdogInterval: Duration? { nil }
}
