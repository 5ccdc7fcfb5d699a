#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An anonymous temporary file: created with `mkstemp` and unlinked at once, so it has no
/// name; closed (and its space freed) when the last reference goes.
///
/// Sendable because its only stored property is an immutable file descriptor, and it is
/// used with `pread`/`pwrite` only, which take explicit offsets and never touch the shared
/// file position. Writes happen during the fetch, one at a time (each awaited), before the
/// file is handed to any reader.
final class SpoolFile: Sendable {
    let descriptor: Int32

    enum Failure: Error, Sendable {
        case create(errno: Int32)
        case write(errno: Int32)
        case read(errno: Int32)
        case shortRead
    }

    init(directory: String) throws(Failure) {
        var template = Array("\(directory)/smtp-sidecar-attachment-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw .create(errno: errno) }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Writes all of `bytes` at `offset`. Blocking: call on a thread pool.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw .write(errno: errno)
            }
            done += written
        }
    }

    /// Reads exactly `count` bytes at `offset`. Blocking: call on a thread pool.
    func read(at offset: Int, count: Int) throws(Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw .read(errno: errno)
            }
            if got == 0 { throw .shortRead }
            done += got
        }
        return bytes
    }
}
