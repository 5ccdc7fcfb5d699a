import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The sockets systemd passed by socket activation (`LISTEN_FDS`, `LISTEN_FDNAMES`).
///
/// ```swift
/// let sockets = try SystemdListenFDs.take()   // [] when not socket-activated
/// if let socket = sockets.first(where: { $0.name == "smtp-sidecar" }) { ... }
/// ```
public enum SystemdListenFDs {
    /// The first passed descriptor (`SD_LISTEN_FDS_START`); the others follow it.
    public static let firstFD: Int32 = 3

    /// Takes the sockets passed by socket activation, once.
    ///
    /// Reads them with `sd_listen_fds_with_names(1, ...)`, which also unsets `LISTEN_PID`,
    /// `LISTEN_FDS` and `LISTEN_FDNAMES` so that child processes do not inherit them (and a
    /// second call returns `[]`), and marks each descriptor close-on-exec. Each must be a
    /// listening `AF_UNIX` stream socket: the sidecar serves nothing else.
    ///
    /// Call it early in `main`, before other threads start: it changes the environment,
    /// and `unsetenv` is not thread-safe.
    ///
    /// - Returns: the descriptors in the order systemd passed them, each with its
    ///   `FileDescriptorName=` (`"unknown"` when the unit set none); `[]` when the process
    ///   was not socket-activated (or `LISTEN_PID` names another process).
    /// - Throws: ``SystemdError/Code/listenFDsUnreadable`` when the variables are
    ///   malformed; ``SystemdError/Code/listenFDNotUnixStreamListener`` when a descriptor
    ///   is anything else than a listening `AF_UNIX` stream socket. On error every passed
    ///   descriptor is closed: nobody else can own them once the environment is unset.
    public static func take() throws(SystemdError) -> [(fd: Int32, name: String)] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = sd_listen_fds_with_names(1, &names)
        defer { freeNames(names) }
        guard count >= 0 else {
            throw SystemdError(
                code: .listenFDsUnreadable,
                message: "cannot read the sockets passed by systemd (LISTEN_FDS/LISTEN_FDNAMES)",
                errno: -count
            )
        }
        var sockets: [(fd: Int32, name: String)] = []
        sockets.reserveCapacity(Int(count))
        for index in 0..<count {
            let fd = firstFD + index
            let name = names?[Int(index)].map { String(cString: $0) } ?? "unknown"
            sockets.append((fd: fd, name: name))
        }
        if let bad = sockets.first(where: { !isUnixStreamListener($0.fd) }) {
            for socket in sockets { close(socket.fd) }
            throw SystemdError(
                code: .listenFDNotUnixStreamListener,
                message: "systemd passed fd \(bad.fd) (name \"\(bad.name)\") that is not a listening AF_UNIX stream "
                    + "socket; the socket unit must use ListenStream= with a path and Accept=no"
            )
        }
        return sockets
    }

    /// Whether `fd` is a listening `AF_UNIX` stream socket (`sd_is_socket_unix`).
    public static func isUnixStreamListener(_ fd: Int32) -> Bool {
        sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0
    }

    private static func freeNames(_ names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard let names else { return }
        // sd_listen_fds_with_names returns a NULL-terminated strv.
        var index = 0
        while let name = names[index] {
            free(name)
            index += 1
        }
        free(names)
    }
}
