#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the process can see of the journal, and the log target `auto` picks from it.
///
/// libsystemd hard-codes the journal socket and reports success even when nothing
/// listens there, so whether to write to journald is decided from these facts instead.
package struct JournalDetection: Sendable, Hashable {
    /// A file's identity, as `JOURNAL_STREAM` names it.
    package struct FileIdentity: Sendable, Hashable {
        package var device: UInt64
        package var inode: UInt64

        package init(device: UInt64, inode: UInt64) {
            self.device = device
            self.inode = inode
        }
    }

    /// Whether `/run/systemd/journal/socket` exists.
    package var journalSocketExists: Bool
    /// `JOURNAL_STREAM` (`device:inode`), set by systemd when it connects stdout/stderr
    /// to the journal. Inherited by children, so it counts only if it matches stderr.
    package var journalStream: String?
    /// stderr's identity, when it can be read.
    package var standardError: FileIdentity?
    /// Whether stderr is a terminal.
    package var standardErrorIsTerminal: Bool

    package init(
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
    package static func current() -> JournalDetection {
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
    package var standardErrorIsJournal: Bool {
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
    package func resolve(_ target: SidecarLogging.Target) -> SidecarLogging.Destination {
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
