#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failure of the systemd integration: a socket systemd passed that the sidecar cannot
/// serve on, or a libsystemd call that returned an error.
///
/// These happen at startup, before any client is connected, so they are not wire-protocol
/// errors (``SidecarCore/ErrorCode`` is for those): the daemon logs them and exits.
public struct SystemdError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, as an extensible set of stable codes.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `sd_listen_fds_with_names` failed (malformed `LISTEN_FDS`/`LISTEN_FDNAMES`).
        public static let listenFDsUnreadable = Code(rawValue: "listen_fds_unreadable")
        /// A passed file descriptor is not a listening `AF_UNIX` stream socket.
        public static let listenFDNotUnixStreamListener = Code(rawValue: "listen_fd_not_unix_stream_listener")
        /// `sd_watchdog_enabled` failed (malformed `WATCHDOG_USEC`/`WATCHDOG_PID`).
        public static let watchdogUnreadable = Code(rawValue: "watchdog_unreadable")
    }

    public var code: Code
    /// What happened, for an operator's log. Never contains a secret.
    public var message: String
    /// The (positive) errno libsystemd reported, when there was one.
    public var errno: Int32?

    public init(code: Code, message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return "\(code): \(message)" }
        return "\(code): \(message) (\(String(cString: strerror(errno))))"
    }
}
