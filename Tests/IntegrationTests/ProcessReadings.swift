import Foundation

/// What /proc says of a process: its open file descriptors and its resident memory.
struct ProcessReadings: Sendable, CustomStringConvertible {
    var openFiles: Int
    /// VmRSS, in KiB.
    var residentKiB: Int

    init(pid: Int32) throws {
        openFiles = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: "/proc/\(pid)/status"])
        }
        residentKiB = kib
    }

    var description: String { "\(openFiles) fds, \(residentKiB) KiB RSS" }
}
