import Foundation

/// The kernel's count of delayed-ACK timer expiries (`TcpExt: DelayedACKs` in
/// /proc/net/netstat), for every TCP socket in this network namespace. A sender waiting on
/// a delayed ACK (Nagle holding a small write, or a reply held until its peer ACKs) is
/// released only when that timer fires, so each such stall adds one. Whether the machine
/// is busy does not change it: a slow send is not a stalled one.
public enum DelayedACKCounter {
    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The current value.
    public static func read(from path: String = "/proc/net/netstat") throws -> Int {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Unreadable(description: "\(path): \(error)")
        }
        return try value(named: "DelayedACKs", inTcpExtOf: text)
    }

    /// One counter of the `TcpExt:` pair of lines (names, then values) in netstat's text.
    public static func value(named name: String, inTcpExtOf text: String) throws -> Int {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("TcpExt:") }
        guard lines.count == 2 else {
            throw Unreadable(description: "expected a TcpExt names line and a values line, found \(lines.count) lines")
        }
        let names = lines[0].split(separator: " ")
        let values = lines[1].split(separator: " ")
        guard names.count == values.count, let index = names.firstIndex(where: { $0 == name }),
            let value = Int(values[index])
        else {
            throw Unreadable(description: "no \(name) value in TcpExt")
        }
        return value
    }
}
