import Foundation
import SidecarProtocol
import SidecarServer
import SidecarTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Issue 21 item 2: a client that writes and never reads must stop being read once its
/// unwritten answers fill the connection's in-flight slots, whatever it sends. Before,
/// refusals took no slot: 50,000 malformed frames grew the daemon by 144 MB.
@Suite struct BackpressureTests {
    static let frames = 20_000

    /// A frame of `payload`, as bytes.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(payload.count).bigEndian, Array.init) + payload
    }

    /// Writes `count` copies of `frame` with blocking writes; counts what was written.
    final class Writer: Sendable {
        let written = Atomic<Int>(0)
        let done = Atomic<Bool>(false)

        func start(fd: Int32, frame: [UInt8], count: Int) {
            let thread = Thread {
                frame.withUnsafeBytes { bytes in
                    outer: for _ in 0..<count {
                        var offset = 0
                        while offset < bytes.count {
                            let sent = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                            if sent <= 0 { break outer }
                            offset += sent
                        }
                        self.written.add(1, ordering: .relaxed)
                    }
                }
                self.done.store(true, ordering: .releasing)
            }
            thread.start()
        }
    }

    static let floods: [(String, [UInt8])] = [
        ("malformed", Array(repeating: UInt8(ascii: "x"), count: 1000)),
        ("unknown operation", Array(#"{"id":1,"op":"nope","params":{"pad":"\#(String(repeating: "p", count: 960))"}}"#.utf8)),
    ]

    @Test(arguments: floods.map(\.0))
    func aClientThatNeverReadsStopsBeingRead(kind: String) async throws {
        let payload = try #require(Self.floods.first { $0.0 == kind }).1
        try await ServerHarness.withServer(maxInFlight: 4, maxFrameBytes: 4096) { harness in
            let fd = try UnixSocket.make(UnixSocket.stream)
            defer { close(fd) }
            try UnixSocket.connectPath(fd, harness.socketPath)
            let writer = Writer()
            writer.start(fd: fd, frame: Self.frame(payload), count: Self.frames)
            func answered() -> Int {
                let byResult = harness.server.stats.snapshot().requests.byResult
                return (byResult["invalid_json"] ?? 0) + (byResult["unknown_operation"] ?? 0)
            }
            // Wait until the daemon stops answering (its count stays put for a while) or the
            // writer got everything out, which only happens if the daemon reads without bound.
            var last = -1
            var unchanged = 0
            for _ in 0..<600 where unchanged < 10 && !writer.done.load(ordering: .acquiring) {
                try await Task.sleep(for: .milliseconds(50))
                let now = answered()
                unchanged = now == last ? unchanged + 1 : 0
                last = now
            }
            let answeredWhileUnread = answered()
            let finishedWhileUnread = writer.done.load(ordering: .acquiring)
            let writtenWhileUnread = writer.written.load(ordering: .relaxed)
            // The answers written fill the kernel's socket buffers (a few hundred KiB, about
            // 140 bytes each); 4 more wait in the slots. Nowhere near all 20,000.
            #expect(!finishedWhileUnread, "the daemon read every frame of a client that never reads")
            #expect(answeredWhileUnread < Self.frames / 2, "answered \(answeredWhileUnread) frames nobody read")
            #expect(writtenWhileUnread < Self.frames)

            // Once the client reads, the daemon goes on: every frame is answered, none dropped.
            var responses = 0
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while responses < Self.frames {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                guard count > 0 else { break }
                buffer += chunk[0..<count]
                var start = 0
                while buffer.count - start >= 4 {
                    let length = buffer[start..<(start + 4)].reduce(0) { $0 << 8 | Int($1) }
                    guard buffer.count - start >= 4 + length else { break }
                    start += 4 + length
                    responses += 1
                }
                buffer.removeFirst(start)
            }
            #expect(responses == Self.frames)
            // The daemon read every frame, so every write returned; the thread may still be
            // counting the last one.
            for _ in 0..<500 where !writer.done.load(ordering: .acquiring) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let writtenAtEnd = writer.written.load(ordering: .relaxed)
            #expect(writtenAtEnd == Self.frames)
        }
    }
}
