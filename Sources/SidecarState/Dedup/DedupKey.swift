import Crypto
import FoundationEssentials
import SidecarCore

/// Builds a dedup key: the lowercase hex SHA-256 of everything that makes two send
/// requests "the same email".
///
/// Every part goes in as a label and a value, each preceded by its length, so parts can
/// never run into each other: `("a", "bc")` and `("ab", "c")` give different keys, and so
/// does a missing part versus an empty one (pass nil to the optional-text `add`).
/// Callers add the parts in a fixed order: workspace, credential, node identity, envelope,
/// headers, bodies, attachment bytes.
public struct DedupKey {
    private var hasher = SHA256()

    public init() {
        update(label: "smtp-sidecar dedup v1", bytes: [])
    }

    /// Adds a text part.
    public mutating func add(_ label: String, _ value: String) {
        update(label: label, bytes: Array(value.utf8), marker: 1)
    }

    /// Adds an optional text part; nil is distinct from "".
    public mutating func add(_ label: String, _ value: String?) {
        if let value {
            add(label, value)
            return
        }
        update(label: label, bytes: [], marker: 0)
    }

    /// Adds a binary part (attachment bytes).
    public mutating func add(_ label: String, bytes: some Sequence<UInt8>) {
        update(label: label, bytes: Array(bytes), marker: 2)
    }

    /// Adds a list of text parts (recipients), keeping their order and count.
    public mutating func add(_ label: String, list: [String]) {
        update(label: label, bytes: withUnsafeBytes(of: UInt64(list.count).bigEndian) { Array($0) }, marker: 3)
        for (index, item) in list.enumerated() {
            add("\(label)[\(index)]", item)
        }
    }

    /// The key: 64 lowercase hex digits.
    public func finalize() -> String {
        Hex.string(hasher.finalize())
    }

    /// The key for a request that carries an explicit idempotency key: scoped to the
    /// workspace, so two workspaces choosing the same key never collide.
    public static func idempotency(workspace: String, key: String) -> String {
        var builder = DedupKey()
        builder.add("kind", "idempotency_key")
        builder.add("workspace", workspace)
        builder.add("idempotency_key", key)
        return builder.finalize()
    }

    private mutating func update(label: String, bytes: [UInt8], marker: UInt8 = 0) {
        let labelBytes = Array(label.utf8)
        hasher.update(data: withUnsafeBytes(of: UInt64(labelBytes.count).bigEndian) { Array($0) })
        hasher.update(data: labelBytes)
        hasher.update(data: [marker])
        hasher.update(data: withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { Array($0) })
        hasher.update(data: bytes)
    }
}
