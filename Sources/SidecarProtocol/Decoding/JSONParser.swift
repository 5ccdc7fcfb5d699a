/// The one JSON parser of request payloads: a strict RFC 8259 parser with the limits a
/// daemon facing untrusted input needs. There is no other parser behind it: whatever it
/// refuses is `invalid_json`.
///
/// Beyond RFC 8259 it refuses (as ``SyntaxError``) nesting deeper than ``maximumDepth``
/// (so no input can exhaust the stack), an object with a repeated member name (a request
/// has one meaning or none), and a string holding an unpaired surrogate escape (which is no
/// Unicode text). The input must already be valid UTF-8.
struct JSONParser {
    /// Why a payload is not JSON the protocol accepts: `message` is safe to show.
    struct SyntaxError: Error, Equatable {
        var message: String
        var offset: Int
    }

    /// Arrays and objects nest at most this deep (a request needs 5).
    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The one JSON value of `bytes`, surrounded only by whitespace.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONNode {
        var parser = JSONParser(bytes)
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("something follows the JSON value") }
        return value
    }

    private func error(_ message: String) -> SyntaxError {
        SyntaxError(message: message, offset: index)
    }

    private mutating func value() throws(SyntaxError) -> JSONNode {
        skipWhitespace()
        guard index < bytes.count else { throw error("the JSON ends too early") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    private mutating func object() throws(SyntaxError) -> JSONNode {
        try enter()
        index += 1
        var members: [(key: String, value: JSONNode)] = []
        var names: Set<String> = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try string()
            // Small objects (every object of a request) are searched; large ones hashed.
            if members.count < 16 {
                for member in members where member.key == key { throw error("an object repeats a member name") }
            } else {
                if names.isEmpty { names = Set(members.map(\.key)) }
                guard names.insert(key).inserted else { throw error("an object repeats a member name") }
            }
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw error("expected a colon after a member name") }
            index += 1
            members.append((key, try value()))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(members)
            default:
                throw error("expected a comma or the end of an object")
            }
        }
    }

    private mutating func array() throws(SyntaxError) -> JSONNode {
        try enter()
        index += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try value())
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","):
                index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(elements)
            default:
                throw error("expected a comma or the end of an array")
            }
        }
    }

    private mutating func enter() throws(SyntaxError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw error("arrays and objects nest deeper than \(Self.maximumDepth) levels")
        }
    }

    /// A string starting at the opening quote. Runs without escapes are copied whole.
    private mutating func string() throws(SyntaxError) -> String {
        index += 1
        var runStart = index
        // Filled only once an escape is met; until then the string is a slice of the input.
        var unescaped: [UInt8] = []
        while true {
            skipPlainBytes()
            guard index < bytes.count else { throw error("a string is not closed") }
            let byte = bytes[index]
            let run = UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                // Every escape adds at least one byte, so empty means none was met.
                if unescaped.isEmpty { return String(decoding: run, as: UTF8.self) }
                unescaped.append(contentsOf: run)
                return String(decoding: unescaped, as: UTF8.self)
            case UInt8(ascii: "\\"):
                unescaped.append(contentsOf: run)
                index += 1
                try escape(into: &unescaped)
                runStart = index
            default:
                throw error("a string holds an unescaped control character")
            }
        }
    }

    /// Moves `index` to the next quote, backslash or control character (or the end): eight
    /// bytes at a time while none is one (the CA certificate and the body are long strings).
    private mutating func skipPlainBytes() {
        while index + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if Self.hasByte(below: 0x20, word) || Self.hasZeroByte(word ^ 0x2222_2222_2222_2222)
                || Self.hasZeroByte(word ^ 0x5C5C_5C5C_5C5C_5C5C)
            {
                break
            }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return }
            index += 1
        }
    }

    /// One escape sequence after its backslash.
    private mutating func escape(into utf8: inout [UInt8]) throws(SyntaxError) {
        let byte = try peek()
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                let unpaired = error("a string holds an unpaired surrogate escape")
                guard try peek() == UInt8(ascii: "\\") else { throw unpaired }
                index += 1
                guard try peek() == UInt8(ascii: "u") else { throw unpaired }
                index += 1
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw unpaired }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw error("a string holds an unpaired surrogate escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("a string holds an invalid escape") }
            utf8.append(contentsOf: UTF8.encode(unicode)!)
        default:
            throw error("a string holds an invalid escape")
        }
    }

    private mutating func hex4() throws(SyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("a string ends inside a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A number per the RFC 8259 grammar: ``JSONNode/integer(_:)`` when it is written as an
    /// integer (no fraction, no exponent) that fits 64 bits, ``JSONNode/number`` otherwise.
    private mutating func number() throws(SyntaxError) -> JSONNode {
        let negative = try peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        let digitsStart = index
        let digits = skipDigits()
        guard digits > 0 else { throw error("expected a JSON value") }
        if digits > 1 && bytes[digitsStart] == UInt8(ascii: "0") { throw error("a number has a leading zero") }
        var plain = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            plain = false
            index += 1
            guard skipDigits() > 0 else { throw error("a number has no digit after its decimal point") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            plain = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw error("a number has no digit in its exponent") }
        }
        guard plain, digits <= 19 else { return .number }
        // Accumulated negatively: Int.min has no positive counterpart.
        var value = 0
        for offset in digitsStart..<(digitsStart + digits) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int(bytes[offset] - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return .number }
            value = next
        }
        if negative { return .integer(value) }
        guard value != Int.min else { return .number }
        return .integer(-value)
    }

    /// Moves past a run of decimal digits and returns its length.
    private mutating func skipDigits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    private static func hasZeroByte(_ word: UInt64) -> Bool {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0
    }

    /// Whether a byte of `word` is less than `limit` (at most 0x80).
    private static func hasByte(below limit: UInt8, _ word: UInt64) -> Bool {
        (word &- 0x0101_0101_0101_0101 &* UInt64(limit)) & ~word & 0x8080_8080_8080_8080 != 0
    }

    private mutating func literal(_ word: StaticString) throws(SyntaxError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("expected a JSON value") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw error("expected a JSON value")
        }
        index += count
    }

    private func peek() throws(SyntaxError) -> UInt8 {
        guard index < bytes.count else { throw error("the JSON ends too early") }
        return bytes[index]
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }
}
