import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The I/O of the log handlers: a journald entry through `sd_journal_sendv`, a line to stderr.
enum JournalWriter {
    /// The socket libsystemd sends native journal entries to (hard-coded in libsystemd).
    static let journalSocketPath = "/run/systemd/journal/socket"

    /// Sends one entry. Returns `sd_journal_sendv`'s result: 0 on success or when no
    /// journal socket exists (libsystemd drops the entry silently then), a negative errno
    /// on failure.
    ///
    /// `sd_journal_send` is variadic and cannot be called from Swift; `sendv` takes one
    /// `NAME=value` iovec a field. All fields are laid out in one buffer that outlives the call.
    static func send(_ fields: [(name: String, value: String)]) -> Int32 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + 1 + $1.value.utf8.count })
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let start = bytes.count
            bytes.append(contentsOf: field.name.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: field.value.utf8)
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -EINVAL }
            let vectors = ranges.map { iovec(iov_base: base + $0.lowerBound, iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }

    /// Writes `line` and a newline to stderr in one `write(2)` (so lines from concurrent
    /// loggers do not interleave below the pipe's atomic size), retrying partial writes
    /// and `EINTR`. Errors are dropped: there is nowhere left to report them.
    static func writeToStandardError(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// Whether the native journal socket exists.
    static func journalSocketExists() -> Bool {
        var info = stat()
        return stat(journalSocketPath, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }
}
