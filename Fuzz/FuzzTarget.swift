#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The fuzz targets linked into one libFuzzer binary (libFuzzer owns the command line, so
/// `SIDECAR_FUZZ_TARGET` picks one; `scripts/fuzz.sh TARGET` sets it).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A client's byte stream through the frame decoder, each payload answered.
    case frame
    /// One frame payload through the request decoder and every parameter check.
    case request
    /// A server's bytes through the SMTP reply decoder.
    case reply
    /// Text through the address list parser and the addr-spec parser.
    case address

    /// The target named by `SIDECAR_FUZZ_TARGET`; a missing or unknown name stops the run.
    public static let selected: FuzzTarget = {
        let name = getenv("SIDECAR_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("SIDECAR_FUZZ_TARGET=\(name.debugDescription): expected one of \(allCases.map(\.rawValue))")
        }
        return target
    }()

    public func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .frame: FrameFuzzer.runStream(input)
        case .request: FrameFuzzer.runPayload(input)
        case .reply: ReplyFuzzer.run(input)
        case .address: AddressFuzzer.run(input)
        }
    }
}
