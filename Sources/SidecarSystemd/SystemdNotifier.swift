import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Tells the service manager about the daemon's state (`sd_notify`, for `Type=notify`).
///
/// Every method is safe to call when the process is not supervised: without
/// `NOTIFY_SOCKET` libsystemd sends nothing and the result is ``Delivery/notSupervised``.
/// The environment is left as it is (`unset_environment` 0), so every call reads
/// `NOTIFY_SOCKET` afresh; the notifier holds no state and is freely shareable.
///
/// ```swift
/// let notifier = SystemdNotifier()
/// notifier.ready(status: "listening on /run/smtp-sidecar/smtp-sidecar.sock")
/// if let interval = try notifier.watchdogInterval() { /* ping every interval / 2 */ }
/// ```
public struct SystemdNotifier: Sendable, Hashable {
    /// What became of a notification.
    public enum Delivery: Sendable, Hashable {
        /// Sent to the service manager.
        case sent
        /// Not sent: `NOTIFY_SOCKET` is unset (started by hand, or `Type=` is not `notify`).
        case notSupervised
        /// Sending failed with this errno (the socket went away, a bad `NOTIFY_SOCKET`).
        case failed(errno: Int32)
    }

    public init() {}

    /// `READY=1`, with an optional `STATUS=` in the same datagram: start-up is complete.
    @discardableResult
    public func ready(status: String? = nil) -> Delivery {
        send(["READY=1"] + (status.map { [Self.assignment("STATUS", $0)] } ?? []))
    }

    /// `STATUS=`: a one-line, human-readable state shown by `systemctl status`.
    @discardableResult
    public func status(_ text: String) -> Delivery {
        send([Self.assignment("STATUS", text)])
    }

    /// `STOPPING=1`: graceful shutdown has begun.
    @discardableResult
    public func stopping(status: String? = nil) -> Delivery {
        send(["STOPPING=1"] + (status.map { [Self.assignment("STATUS", $0)] } ?? []))
    }

    /// `RELOADING=1` with the `MONOTONIC_USEC=` that `Type=notify-reload` (systemd 253+)
    /// requires; follow it with ``ready(status:)`` when the reload is done.
    @discardableResult
    public func reloading() -> Delivery {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"])
    }

    /// `WATCHDOG=1`: the keep-alive ping; send it at least every ``watchdogInterval()`` / 2.
    @discardableResult
    public func watchdog() -> Delivery {
        send(["WATCHDOG=1"])
    }

    /// `EXTEND_TIMEOUT_USEC=`: ask for more time to start or stop than the unit allows.
    @discardableResult
    public func extendTimeout(by duration: Duration) -> Delivery {
        send(["EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))"])
    }

    /// Sends the assignments (`NAME=value`), one datagram, newline-separated.
    ///
    /// Each assignment must be a single line; ``status(_:)`` and friends make sure of it.
    @discardableResult
    public func send(_ assignments: [String]) -> Delivery {
        let result = sd_notify(0, assignments.joined(separator: "\n"))
        if result > 0 { return .sent }
        if result == 0 { return .notSupervised }
        return .failed(errno: -result)
    }

    /// The watchdog interval the unit asks for (`WatchdogSec=`), read with
    /// `sd_watchdog_enabled(0, ...)`: `nil` when the watchdog is off or meant for another
    /// process (`WATCHDOG_PID`).
    ///
    /// - Throws: ``SystemdError/Code/watchdogUnreadable`` when `WATCHDOG_USEC` or
    ///   `WATCHDOG_PID` is malformed: a unit that wants a watchdog but cannot say so
    ///   would otherwise get the daemon killed.
    public func watchdogInterval() throws(SystemdError) -> Duration? {
        var usec: UInt64 = 0
        let result = sd_watchdog_enabled(0, &usec)
        if result < 0 {
            throw SystemdError(
                code: .watchdogUnreadable,
                message: "cannot read the watchdog settings (WATCHDOG_USEC/WATCHDOG_PID)",
                errno: -result
            )
        }
        guard result > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
    }

    /// `NAME=value` with the value made one line: the protocol separates assignments by
    /// newlines, so a newline in a status text would otherwise smuggle in a second one
    /// (`"x\nREADY=1"`). Line breaks (and NUL) become spaces.
    public static func assignment(_ name: String, _ value: String) -> String {
        var line = name + "="
        for character in value.unicodeScalars {
            line.unicodeScalars.append(character.breaksNotifyLine ? " " : character)
        }
        return line
    }

    /// `duration` in whole microseconds, as the protocol's `*_USEC` values want it (negative → 0).
    public static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000)
        if overflow { return .max }
        return whole &+ UInt64(attoseconds / 1_000_000_000_000)
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}

extension Unicode.Scalar {
    /// Line breaks in any convention (LF, VT, FF, CR, NEL, LS, PS) and NUL, which would end
    /// the C string early.
    var breaksNotifyLine: Bool {
        switch value {
        case 0x00, 0x0A...0x0D, 0x85, 0x2028, 0x2029: true
        default: false
        }
    }
}
