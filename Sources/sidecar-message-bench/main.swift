// Benchmark: compose and serialise a message with a 10 MB attachment, and report the time
// and the peak memory (VmHWM) it took. Run in release:
//
//     swift run -c release sidecar-message-bench [attachment-megabytes]
//
// Phases:
// 1. compose: validate the draft (base64 validation included) and build the MIME tree;
// 2. stream: serialise through a sink that only counts and checksums, the way the SMTP
//    layer streams into a socket; peak memory should stay near the input's own size;
// 3. collect: serialise into one array with `serialize()`, for comparison.
import Foundation
import SidecarMessage

struct CountingSink: MessageByteSink {
    var count = 0
    var checksum: UInt64 = 0

    mutating func write(_ bytes: [UInt8]) async throws {
        count += bytes.count
        for byte in bytes { checksum = checksum &* 31 &+ UInt64(byte) }
    }
}

/// A field of /proc/self/status in bytes (VmHWM: peak resident set size; VmRSS: current).
func procStatus(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        return (kilobytes ?? 0) * 1024
    }
    return 0
}

/// Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs), so each phase reports its own peak.
func resetPeak() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

func megabytes(_ bytes: Int) -> String {
    String(format: "%.1f MB", Double(bytes) / 1_000_000)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// One result line: phase, time, throughput, peak RSS and its ratios.
func report(_ phase: String, time: Duration, bytes: Int?, peak: Int, messageSize: Int, baseline: Int) {
    var columns = [phase.padding(toLength: 10, withPad: " ", startingAt: 0), String(format: "%8.1f ms", seconds(time) * 1000)]
    if let bytes { columns.append(String(format: "%7.1f MB/s", Double(bytes) / 1e6 / seconds(time))) }
    columns.append("peak RSS \(megabytes(peak))")
    columns.append(String(format: "peak / message size %.2f", Double(peak) / Double(messageSize)))
    columns.append("above baseline \(megabytes(peak - baseline))")
    print(columns.joined(separator: "   "))
}

func randomBase64(byteCount: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    var raw = [UInt8](repeating: 0, count: byteCount)
    for index in stride(from: 0, to: raw.count, by: 8) {
        let word = generator.next() as UInt64
        for offset in 0..<Swift.min(8, raw.count - index) {
            raw[index + offset] = UInt8(truncatingIfNeeded: word >> (offset * 8))
        }
    }
    return Data(raw).base64EncodedString()
}

func run() async throws {
    let startRSS = procStatus("VmRSS")
    let attachmentMegabytes = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 10
    let attachmentBytes = attachmentMegabytes * 1_000_000

    // Input: random bytes as base64, the way a workflow sends them on the wire.
    let base64Content = randomBase64(byteCount: attachmentBytes)
    let text = String(repeating: "This is the body of the benchmark message, with some text on each line.\n", count: 2_000)

    let draft = MessageDraft(
        from: "Bench Sender <bench@example.com>", to: ["Recipient <to@example.org>"],
        subject: "Benchmark: \(attachmentMegabytes) MB attachment", bodyFormat: .html, text: text, html: "<p>\(text)</p>",
        attachments: [AttachmentDraft(filename: "random.bin", content: .base64(base64Content))])
    let composer = MessageComposer(limits: MessageLimits(maxAttachmentBytes: 100_000_000, maxMessageBytes: 200_000_000))
    let clock = ContinuousClock()
    let baseline = procStatus("VmRSS")

    print("sidecar-message-bench: one \(megabytes(attachmentBytes)) attachment given as base64 (\(megabytes(base64Content.utf8.count))),")
    print("text and HTML bodies of \(megabytes(text.utf8.count)) each")
    print("RSS at start \(megabytes(startRSS)); baseline with the caller's input built \(megabytes(baseline))")
    print("")

    resetPeak()
    var composed: ComposedMessage?
    let composeTime = clock.measure { composed = try! composer.compose(draft) }
    let message = composed!
    let messageSize = message.byteCount ?? 0
    report("compose", time: composeTime, bytes: nil, peak: procStatus("VmHWM"), messageSize: messageSize, baseline: baseline)

    resetPeak()
    var sink = CountingSink()
    let streamStart = clock.now
    try await message.write(to: &sink)
    let streamTime = clock.now - streamStart
    precondition(sink.count == messageSize, "wrote \(sink.count) bytes, announced \(messageSize)")
    report("stream", time: streamTime, bytes: sink.count, peak: procStatus("VmHWM"), messageSize: messageSize, baseline: baseline)

    resetPeak()
    let collectStart = clock.now
    let bytes = try await message.serialize()
    let collectTime = clock.now - collectStart
    precondition(bytes.count == messageSize)
    report("collect", time: collectTime, bytes: bytes.count, peak: procStatus("VmHWM"), messageSize: messageSize, baseline: baseline)

    print("")
    print("message size \(megabytes(messageSize)) (\(messageSize) bytes, exact before writing); checksum \(String(sink.checksum, radix: 16))")
    print("stream = write(to:) into a counting sink, as the SMTP layer does; collect = serialize() into one array.")
    print("Peak RSS includes the Swift runtime and the caller's base64 input, which the composer does not copy.")
}

try await run()
