import Logging
import SidecarServer

/// Where the executable meets systemd: logging bootstrap, inherited sockets, sd_notify.
enum SystemdGlue {
    static func bootstrapLogging(target: String, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func inheritedListener() throws -> ListenerSource? {
        nil
    }

    static func makeNotifier() -> any LifecycleNotifier {
        SilentNotifier()
    }
}
