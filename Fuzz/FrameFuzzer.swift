import NIOCore
import SidecarCore
import SidecarProtocol

/// The fuzz target: what the daemon does with the bytes a client writes. The stream is cut
/// into frames by ``FrameDecoder`` (with a small `max_frame_bytes`, so the limit is
/// reached), each payload goes through ``RequestDecoder`` with every parameter check, the
/// numbers of a decoded request go through the arithmetic the daemon does with them, and
/// every answer is encoded. Anything that traps is a finding.
///
/// Two fuzz targets use it: `frame` (``runStream(_:)``: the first byte picks the size of
/// each read, the rest is a client's byte stream, then end of input) and `request`
/// (``answer(_:)``: the input is one frame's payload, so that mutations of JSON need not
/// keep a length prefix right).
///
/// Built by `scripts/fuzz.sh` with `swiftc -sanitize=fuzzer`; in a normal build it is a
/// library nobody links.
public enum FrameFuzzer {
    public static let maxFrameBytes: UInt32 = 4096

    /// A pessimistic "now" for the arithmetic the daemon does with request numbers: the
    /// year 2100, in milliseconds since 1970.
    static let nowMs: Int64 = 4_102_444_800_000

    static let decodingCodes: Set<ErrorCode> = [.invalidJSON, .notAnObject, .missingID, .unknownOperation, .invalidParams]

    public static func runStream(_ input: UnsafeRawBufferPointer) {
        let chunk = max(1, Int(input.first ?? 1))
        let stream = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(maxPayloadLength: maxFrameBytes))
        var brokeFraming = false
        let receive: (InboundFrame) -> Void = { frame in
            precondition(!brokeFraming, "a frame after broken framing")
            switch frame {
            case .payload(let payload):
                precondition(payload.readableBytes <= Int(maxFrameBytes))
                answer(payload)
            case .oversized(let declared, let limit):
                precondition(declared > limit)
                brokeFraming = true
            case .truncated(let received, let expected):
                precondition(received < expected)
                brokeFraming = true
            }
        }
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + chunk)
            try! processor.process(buffer: ByteBuffer(bytes: stream[offset..<end]), receive)
            offset = end
        }
        try! processor.finishProcessing(seenEOF: true, receive)
    }

    /// The `request` target: decodes one payload and encodes its answer, as the connection does.
    public static func runPayload(_ input: UnsafeRawBufferPointer) {
        answer(ByteBuffer(bytes: input))
    }

    /// Decodes one payload and encodes its answer, as the connection does.
    static func answer(_ payload: ByteBuffer) {
        switch RequestDecoder().decode(payload) {
        case .success(let request):
            check(request)
            _ = Response.failure(id: request.id, SidecarError(code: .notImplemented, message: "fuzz")).payload()
            if case .ping(let params) = request.operation {
                _ = Response.success(id: request.id, PingResult(data: params.data)).payload()
            }
        case .failure(let failure):
            precondition(decodingCodes.contains(failure.error.code), "unexpected code \(failure.error.code)")
            precondition(failure.error.field?.isEmpty != true)
            _ = Response.failure(id: failure.id, failure.error).payload()
        }
    }

    /// The guarantees the rest of the daemon relies on, and the arithmetic it does with
    /// request numbers (with trapping operators, as there).
    static func check(_ request: Request) {
        if case .string(let id) = request.id {
            precondition(RequestBounds.idLength.contains(id.unicodeScalars.count))
        }
        switch request.operation {
        case .hello(let params):
            precondition((params.versions ?? []).allSatisfy(RequestBounds.version.contains))
        case .ping(let params):
            if let delay = params.delayMs {
                precondition(RequestBounds.delayMs.contains(delay))
                _ = Duration.milliseconds(delay)
            }
        case .stats, .metrics:
            break
        case .credentialStatus(let params):
            precondition(params.credentialID.map { RequestBounds.identifierLength.contains($0.unicodeScalars.count) } ?? true)
            precondition(params.workspaceID.map { RequestBounds.identifierLength.contains($0.unicodeScalars.count) } ?? true)
        case .send(let params):
            precondition((params.credential == nil) != (params.credentialID == nil))
            if let window = params.dedupWindowSeconds {
                // DedupStore: now + window, in milliseconds.
                let duration = Duration.seconds(window)
                let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
                _ = nowMs + milliseconds
            }
            deadline(params.timeoutMs)
            for attachment in params.attachments ?? [] {
                precondition((attachment.contentBase64 == nil) != (attachment.url == nil))
            }
            credential(params.credential)
        case .verify(let params):
            precondition((params.credential == nil) != (params.credentialID == nil))
            deadline(params.timeoutMs)
            credential(params.credential)
        }
    }

    static func deadline(_ timeoutMs: Int?) {
        guard let timeoutMs else { return }
        precondition(RequestBounds.timeoutMs.contains(timeoutMs))
        // Deadlines: nanoseconds from now (NIODeadline), a Duration past a clock instant.
        _ = Int64(timeoutMs) * 1_000_000
        _ = ContinuousClock.now + .milliseconds(timeoutMs)
    }

    static func credential(_ credential: CredentialParams?) {
        guard let credential else { return }
        if let port = credential.port { _ = UInt16(port) }
        if let perMinute = credential.limits?.perMinute { _ = 60_000 / perMinute * perMinute }
        if let daily = credential.limits?.daily { _ = 86_400_000 / daily * daily }
    }
}
