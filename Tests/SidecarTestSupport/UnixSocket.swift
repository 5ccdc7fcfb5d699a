#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Just enough of the BSD socket API for the tests, errors thrown with their errno.
public enum UnixSocket {
    public struct Failure: Error, CustomStringConvertible {
        var call: String
        var errno: Int32
        public var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
    }

    public static func make(_ type: Int32, family: Int32 = AF_UNIX) throws -> Int32 {
        let fd = socket(family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", errno: errno) }
        return fd
    }

    public static var stream: Int32 { Int32(SOCK_STREAM.rawValue) }
    public static var datagram: Int32 { Int32(SOCK_DGRAM.rawValue) }

    public static func bindPath(_ fd: Int32, _ path: String) throws {
        try withAddress(path) { address, length in
            guard bind(fd, address, length) == 0 else { throw Failure(call: "bind", errno: errno) }
        }
    }

    public static func connectPath(_ fd: Int32, _ path: String) throws {
        try withAddress(path) { address, length in
            guard connect(fd, address, length) == 0 else { throw Failure(call: "connect", errno: errno) }
        }
    }

    public static func send(_ fd: Int32, to path: String, _ text: String) throws {
        try withAddress(path) { address, length in
            let sent = text.withCString { sendto(fd, $0, strlen($0), 0, address, length) }
            guard sent >= 0 else { throw Failure(call: "sendto", errno: errno) }
        }
    }

    /// Reads until end of file.
    public static func readToEnd(_ fd: Int32) throws -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Failure(call: "read", errno: errno) }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Every datagram already queued on `fd`, without waiting for more.
    public static func receiveQueued(_ fd: Int32) throws -> [String] {
        var datagrams: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return datagrams }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Failure(call: "recv", errno: errno) }
            datagrams.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
    }

    private static func withAddress(
        _ path: String,
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Void
    ) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(call: "sockaddr_un(\(path))", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                try body(address, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}
