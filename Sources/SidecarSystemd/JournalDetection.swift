#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the process can see of the journal, and the log target `auto` picks from it.
///
/// libsystemd hard-codes the journal socket and reports success even when nothing
/// listens there, so whether to write to journald is decided from these facts instead.
public struct JournalDetection: Sendable, Hashable {
    /// A file's identity, as `JOURNAL_STREAM` names it.
    public struct FileIdentity: Sendable, Hashable {
        public var device: UInt64
        public var inode: UInt64

        public init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }
    }

    /// Whether `/run/systemd/journal/socket` exists.
    public var journalSocketExists: Bool
    /// `JOURNAL_STREAM` (`device:inode`), set by systemd when it connects stdout/stderr
    /// to the journal. Inherited by children, so it counts only if it matches stderr.
    public var journalStream: String?
    /// stderr's identity, when it can be read.
    public var standardError: FileIdentity?
    /// Whether stderr is a terminal.
    public var standardErrorIsTerminal: Bool

    public init(
        journalSocketExists: Bool,
        journalStream: String?,
        standardError: FileIdentity?,
        standardErrorIsTerminal: Bool
    ) {
        self.journalSocketExists = journalSocketExists
        self.journalStream = journalStream
        self.standardError = standardError
        self.standardErrorIsTerminal = standardErrorIsTerminal
    }

    /// The facts for this process, now.
    public static func current() -> JournalDetection {
        var info = stat()
        let identity = fstat(STDERR_FILENO, &info) == 0
            ? FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
        return JournalDetection(
            journalSocketExists: JournalWriter.journalSocketExists(),
            journalStream: getenv("JOURNAL_STREAM").map { String(cString: $0) },
            standardError: identity,
            standardErrorIsTerminal: isatty(STDERR_FILENO) == 1
        )
    }

    /// Whether stderr is the journal stream systemd set up (`JOURNAL_STREAM` matches it).
    public var standardErrorIsJournal: Bool {
        guard let journalStream, let standardError else { return false }
        let parts = journalStream.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        return FileIdentity(device: device, inode: inode) == standardError
    }

    /// Where `target` sends entries here: `.journald` and `.stderr` as asked, and `.auto`:
    ///
    /// 1. no journal socket → `.stderr`;
    /// 2. stderr is the journal stream (run by systemd) → `.journald` (native entries
    ///    keep the metadata as fields, which the stream would flatten into text);
    /// 3. stderr is a terminal (started by hand) → `.stderr`, where the operator looks;
    /// 4. otherwise (stderr redirected on a host with a journal) → `.journald`.
    public func resolve(_ target: SidecarLogging.Target) -> SidecarLogging.Destination {
        switch target {
        case .journald:
            return .journald
        case .stderr:
            return .stderr
        case .auto:
            if !journalSocketExists { return .stderr }
            if standardErrorIsJournal { return .journald }
            return standardErrorIsTerminal ? .stderr : .journald
        }
    }
}
