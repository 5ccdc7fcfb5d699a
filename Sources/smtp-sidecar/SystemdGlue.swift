import Logging
import SidecarCore
import SidecarServer
import SidecarSystemd

/// Where the executable meets systemd: logging bootstrap, inherited sockets, sd_notify.
enum SystemdGlue {
    static func bootstrapLogging(target: String, level: Logger.Level) {
        let target = SidecarLogging.Target(rawValue: target) ?? .auto
        LoggingSystem.bootstrap { label in
            var handler = SidecarLogging.makeHandler(label: label, target: target)
            handler.logLevel = level
            return handler
        }
    }

    /// The socket systemd passed, if the daemon was socket-activated. More than one passed
    /// socket is a unit-file mistake, reported rather than half-served.
    static func inheritedListener() throws(SidecarError) -> ListenerSource? {
        let sockets: [(fd: Int32, name: String)]
        do {
            sockets = try SystemdListenFDs.take()
        } catch {
            throw SidecarError(code: .invalidConfiguration, message: "Socket activation: \(error.message)")
        }
        guard let first = sockets.first else { return nil }
        guard sockets.count == 1 else {
            throw SidecarError(
                code: .invalidConfiguration,
                message: "Socket activation passed \(sockets.count) sockets (\(sockets.map(\.name).joined(separator: ", "))); expected one.")
        }
        return .inherited(fileDescriptor: first.fd, name: first.name)
    }

    static func makeNotifier() -> any LifecycleNotifier {
        SystemdLifecycleNotifier(notifier: SystemdNotifier(), watchdogInterval: try? SystemdNotifier().watchdogInterval())
    }
}

/// The server's ``LifecycleNotifier`` over sd_notify.
struct SystemdLifecycleNotifier: LifecycleNotifier {
    let notifier: SystemdNotifier
    let watchdogInterval: Duration?

    func ready() { notifier.ready() }
    func status(_ text: String) { notifier.status(text) }
    func stopping() { notifier.stopping() }
    func watchdog() { notifier.watchdog() }
}
