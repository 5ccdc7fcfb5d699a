import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who wrote a `pending` dedup record, precisely enough to tell later whether that
/// process is still running.
///
/// On Linux the owner string is `linux:<boot id>:<pid>:<start time>`: the boot id changes
/// at reboot and the start time (in clock ticks since boot, `/proc/<pid>/stat` field 22)
/// tells a reused pid from the original, so a daemon killed with `kill -9` and restarted
/// is recognised as dead at once. Elsewhere, or when `/proc` cannot be read, the owner is
/// `opaque:<uuid>` and its liveness is unknown: only the stale limit applies.
public struct ProcessIdentity: Sendable, Hashable {
    /// The owner string stored with each record this process writes.
    public var owner: String

    public init(owner: String) {
        self.owner = owner
    }

    /// This process.
    public static let current: ProcessIdentity = {
        if let boot = bootID(), let start = startTime(of: getpid()) {
            return ProcessIdentity(owner: "linux:\(boot):\(getpid()):\(start)")
        }
        return ProcessIdentity(owner: "opaque:\(UUID().uuidString.lowercased())")
    }()

    /// Whether the process named by `owner` is running: true or false when it can be
    /// told, nil when not (an opaque owner, or one from a test).
    public static func isAlive(owner: String) -> Bool? {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "linux", let pid = Int32(parts[2]), let currentBoot = bootID() else {
            return nil
        }
        guard parts[1] == currentBoot else { return false }
        guard let start = startTime(of: pid) else { return false }
        return String(start) == parts[3]
    }

    private static func bootID() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else {
            return nil
        }
        // One UUID and a newline.
        return text.split(whereSeparator: \.isWhitespace).first.map(String.init)
    }

    /// Field 22 of `/proc/<pid>/stat`, read after the last `)` because the command name
    /// (field 2) may itself contain spaces and parentheses.
    private static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}
