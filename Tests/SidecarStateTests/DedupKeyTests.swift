import SidecarCore
import Testing

@testable import SidecarState

@Suite("DedupKey")
struct DedupKeyTests {
    private func key(_ build: (inout DedupKey) -> Void) -> String {
        var builder = DedupKey()
        build(&builder)
        return builder.finalize()
    }

    @Test("same parts give the same 64-hex-digit key")
    func deterministic() {
        let a = key { $0.add("workspace", "w1"); $0.add("subject", "Hi"); $0.add("attachment", bytes: [1, 2, 3]) }
        let b = key { $0.add("workspace", "w1"); $0.add("subject", "Hi"); $0.add("attachment", bytes: [1, 2, 3]) }
        #expect(a == b)
        #expect(a.count == 64)
        #expect(a.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test("parts cannot run into each other; nil differs from empty; any byte changes the key")
    func separation() {
        let keys = [
            key { $0.add("a", "bc") },
            key { $0.add("ab", "c") },
            key { $0.add("a", "b"); $0.add("c", "") },
            key { $0.add("a", nil as String?) },
            key { $0.add("a", "") },
            key { $0.add("a", bytes: []) },
            key { $0.add("to", list: ["x", "y"]) },
            key { $0.add("to", list: ["xy"]) },
            key { $0.add("attachment", bytes: [1, 2, 3]) },
            key { $0.add("attachment", bytes: [1, 2, 4]) },
        ]
        #expect(Set(keys).count == keys.count)
    }

    @Test("explicit idempotency keys are scoped to the workspace")
    func idempotency() {
        #expect(DedupKey.idempotency(workspace: "w1", key: "k") == DedupKey.idempotency(workspace: "w1", key: "k"))
        #expect(DedupKey.idempotency(workspace: "w1", key: "k") != DedupKey.idempotency(workspace: "w2", key: "k"))
    }

    /// Keys are written with `Hex.string`: lower case, two digits per byte.
    @Test("hex encoding")
    func hex() {
        #expect(Hex.string([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(DedupKey().finalize().utf8.allSatisfy { Array("0123456789abcdef".utf8).contains($0) })
    }
}
