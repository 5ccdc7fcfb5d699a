#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SidecarCore

/// File-system chores for a Unix socket the daemon binds itself.
enum UnixSocketFile {
    /// Makes `path` free to bind: creates the parent directory if needed and removes a
    /// stale socket left by a previous run. A live socket (another daemon answers on it)
    /// or a file that is not a socket is never removed.
    static func prepare(path: String) throws(SidecarError) {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !directory.isEmpty {
            mkdir(directory, 0o755)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw SidecarError(
                code: .invalidConfiguration, message: "\(path) exists and is not a socket; refusing to replace it.")
        }
        if isLive(path: path) {
            throw SidecarError(
                code: .invalidConfiguration, message: "Another process is already serving on \(path).")
        }
        unlink(path)
    }

    static func setPermissions(path: String, mode: UInt32, group: String?) throws(SidecarError) {
        guard chmod(path, mode_t(mode)) == 0 else {
            throw SidecarError(code: .invalidConfiguration, message: "Cannot set mode of \(path): errno \(errno).")
        }
        guard let group else { return }
        let gid: gid_t
        if let number = UInt32(group) {
            gid = number
        } else if let entry = getgrnam(group) {
            gid = entry.pointee.gr_gid
        } else {
            throw SidecarError(code: .invalidConfiguration, message: "socket_group: no group named \"\(group)\".")
        }
        guard chown(path, uid_t.max, gid) == 0 else {
            throw SidecarError(code: .invalidConfiguration, message: "Cannot set group of \(path): errno \(errno).")
        }
    }

    static func remove(path: String) {
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK {
            unlink(path)
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func isLive(path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
