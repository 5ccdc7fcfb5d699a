import Foundation
import Synchronization

/// The messages in one server's Maildir (`new/`), found by the test token they carry in
/// an `X-Interop-Token` header. A file is read once for its token (its first 64 KiB: the
/// header section, or for a DSN the returned headers), so polling a Maildir that holds
/// the suite's 5 MB messages stays cheap.
final class MaildirIndex: Sendable {
    static let tokenHeader = "X-Interop-Token"

    let directory: String
    /// File name → the token it carries ("" for none).
    private let tokens = Mutex<[String: String]>([:])

    init(directory: String) {
        self.directory = directory
    }

    /// The delivered files that carry `token`.
    func deliveries(token: String) throws -> [InteropDelivery] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        var matching: [String] = []
        for name in names {
            let known = tokens.withLock { $0[name] }
            let found = try known ?? index(name)
            if found == token { matching.append(name) }
        }
        return try matching.map { name in
            let path = "\(directory)/\(name)"
            return InteropDelivery(path: path, raw: try Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    private func index(_ name: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "\(directory)/\(name)"))
        defer { try? handle.close() }
        let head = String(decoding: try handle.read(upToCount: 64 * 1024) ?? Data(), as: UTF8.self)
        var token = ""
        if let range = head.range(of: "\(Self.tokenHeader): ") {
            token = String(head[range.upperBound...].prefix { !$0.isNewline && $0 != "\r" })
        }
        tokens.withLock { $0[name] = token }
        return token
    }
}
