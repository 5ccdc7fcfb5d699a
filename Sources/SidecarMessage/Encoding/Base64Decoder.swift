/// A streaming, validating base64 decoder (RFC 4648 §4, standard alphabet) for
/// attachment content supplied by clients.
///
/// Whitespace (space, tab, CR, LF) is ignored anywhere, as it appears in wrapped base64.
/// Padding is optional, but once `=` appears only `=` and whitespace may follow, and
/// nothing may follow a complete padded group.
struct Base64Decoder {
    enum Failure: Error, Equatable {
        /// A byte outside the alphabet, at this offset of the input.
        case invalidCharacter(UInt8, offset: Int)
        /// `=` where padding cannot be, or data after padding, at this offset.
        case misplacedPadding(offset: Int)
        /// The input ends with a single character of a group, which encodes no byte.
        case truncated
    }

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = UInt8(index)
        }
        for whitespace: UInt8 in [9, 10, 13, 32] { table[Int(whitespace)] = 0xFE }
        return table
    }()

    private var accumulator: UInt32 = 0
    /// Data characters in the current group (0...3).
    private var characters = 0
    /// `=` characters seen in the current group.
    private var padding = 0
    /// A padded group has been completed: only whitespace may follow.
    private var ended = false
    private var offset = 0

    mutating func decode<Output: ByteOutput>(_ input: some Sequence<UInt8>, into output: inout Output) throws(Failure) {
        let values = Self.values
        for character in input {
            defer { offset += 1 }
            let value = values[Int(character)]
            if value == 0xFE { continue }
            if character == ASCII.equals {
                // Padding completes a group of 2 or 3 characters: "xx==" or "xxx=".
                guard !ended, characters >= 2, characters + padding < 4 else {
                    throw .misplacedPadding(offset: offset)
                }
                padding += 1
                if characters + padding == 4 {
                    flushPartialGroup(into: &output)
                    ended = true
                }
                continue
            }
            guard value != 0xFF else { throw .invalidCharacter(character, offset: offset) }
            guard !ended, padding == 0 else { throw .misplacedPadding(offset: offset) }
            accumulator = accumulator << 6 | UInt32(value)
            characters += 1
            if characters == 4 {
                output.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                output.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                output.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                characters = 0
            }
        }
    }

    mutating func finish<Output: ByteOutput>(into output: inout Output) throws(Failure) {
        guard !ended else { return }
        guard padding == 0, characters != 1 else { throw .truncated }
        if characters > 0 { flushPartialGroup(into: &output) }
        ended = true
    }

    /// Emits the 1 or 2 bytes of a final group of 2 or 3 characters (its padding bits are ignored).
    private mutating func flushPartialGroup<Output: ByteOutput>(into output: inout Output) {
        let bits = accumulator << (6 * UInt32(4 - characters))
        output.append(UInt8(truncatingIfNeeded: bits >> 16))
        if characters == 3 { output.append(UInt8(truncatingIfNeeded: bits >> 8)) }
        accumulator = 0
        characters = 0
    }
}
