import NIOCore
import SidecarCore

/// Appends compact JSON text to a `ByteBuffer`, without building an intermediate tree.
///
/// The writer places the commas between members and elements itself. Strings are escaped
/// as `JSONEncoder` with `.withoutEscapingSlashes` escapes them: `"`, `\` and the control
/// characters U+0000 to U+001F; `/` and everything else, non-ASCII included, is written as
/// raw UTF-8. Containers nest at most ``maxDepth`` deep.
///
/// ```swift
/// var writer = JSONWriter(buffer: allocator.buffer(capacity: 64))
/// writer.beginObject()
/// writer.member("pong", true)
/// writer.endObject()  // {"pong":true}
/// ```
public struct JSONWriter: Sendable {
    /// The deepest nesting of objects and arrays the writer supports.
    public static let maxDepth = 64

    /// The text written so far, after whatever the buffer held before.
    public var buffer: ByteBuffer

    /// One bit per open container, the innermost in bit 0: set once it holds a member or
    /// element, so the next one is preceded by a comma.
    private var containerHasContent: UInt64 = 0
    /// How many containers are open.
    private var depth = 0
    /// Whether a key was written and its value has not been yet.
    private var awaitingValue = false

    /// A writer that appends to `buffer`.
    public init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    // MARK: Containers

    public mutating func beginObject() {
        beginContainer(UInt8(ascii: "{"))
    }

    public mutating func endObject() {
        endContainer(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        beginContainer(UInt8(ascii: "["))
    }

    public mutating func endArray() {
        endContainer(UInt8(ascii: "]"))
    }

    /// Writes an object member's name; the next value written is the member's value.
    /// `name` is written as is, so it must need no escaping.
    public mutating func key(_ name: StaticString) {
        assert(depth > 0 && !awaitingValue, "a key outside an object or after another key")
        separate()
        buffer.writeInteger(UInt8(ascii: "\""))
        // Not `writeStaticString`: a one-character literal has no pointer representation.
        name.withUTF8Buffer { utf8 in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(utf8))
        }
        buffer.writeStaticString("\":")
        awaitingValue = true
    }

    /// Writes an object member's name that is not known in advance (a dictionary's key),
    /// escaped as a string is.
    public mutating func dynamicKey(_ name: String) {
        assert(depth > 0 && !awaitingValue, "a key outside an object or after another key")
        string(name)
        buffer.writeInteger(UInt8(ascii: ":"))
        awaitingValue = true
    }

    // MARK: Values

    public mutating func string(_ value: String) {
        beginValue()
        var value = value
        value.withUTF8 { utf8 in
            buffer.reserveCapacity(minimumWritableBytes: utf8.count + 2)
            buffer.writeInteger(UInt8(ascii: "\""))
            writeEscaped(UnsafeRawBufferPointer(utf8))
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }

    public mutating func int(_ value: Int) {
        int64(Int64(value))
    }

    public mutating func int64(_ value: Int64) {
        beginValue()
        if value < 0 {
            buffer.writeInteger(UInt8(ascii: "-"))
        }
        writeDecimal(value.magnitude)
    }

    public mutating func bool(_ value: Bool) {
        beginValue()
        buffer.writeStaticString(value ? "true" : "false")
    }

    public mutating func null() {
        beginValue()
        buffer.writeStaticString("null")
    }

    /// Writes `value` (one JSON value).
    public mutating func value(_ value: some JSONWritable) {
        value.writeJSON(to: &self)
    }

    /// Writes `values` as an array.
    public mutating func array<Element: JSONWritable>(_ values: [Element]) {
        beginArray()
        for element in values {
            element.writeJSON(to: &self)
        }
        endArray()
    }

    // MARK: Members
    //
    // Each writes `"name":value`, and nothing when the value is nil, as `encodeIfPresent`
    // (and so a synthesized `Encodable` conformance) does.

    public mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func member(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    public mutating func member(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bool(value)
    }

    public mutating func member<Value: JSONWritable>(_ name: StaticString, _ value: Value?) {
        guard let value else { return }
        key(name)
        value.writeJSON(to: &self)
    }

    public mutating func member<Element: JSONWritable>(_ name: StaticString, _ values: [Element]) {
        key(name)
        array(values)
    }

    public mutating func member(_ name: StaticString, _ values: [String]) {
        key(name)
        beginArray()
        for value in values {
            string(value)
        }
        endArray()
    }

    /// An object of counters, its members in the order of their names.
    public mutating func member(_ name: StaticString, _ counts: [String: Int]) {
        key(name)
        beginObject()
        for (countName, count) in counts.sorted(by: { $0.key < $1.key }) {
            dynamicKey(countName)
            int(count)
        }
        endObject()
    }

    // MARK: Separators

    /// Writes a comma if the innermost container already has content, and marks it as
    /// having some.
    private mutating func separate() {
        guard depth > 0 else { return }
        if containerHasContent & 1 != 0 {
            buffer.writeInteger(UInt8(ascii: ","))
        }
        containerHasContent |= 1
    }

    /// Called before every value: a member's value follows its key directly, an array
    /// element (or a top-level value) is separated from the one before.
    private mutating func beginValue() {
        if awaitingValue {
            awaitingValue = false
        } else {
            separate()
        }
    }

    private mutating func beginContainer(_ opening: UInt8) {
        precondition(depth < Self.maxDepth, "JSON nested deeper than \(Self.maxDepth)")
        beginValue()
        buffer.writeInteger(opening)
        containerHasContent <<= 1
        depth += 1
    }

    private mutating func endContainer(_ closing: UInt8) {
        assert(depth > 0 && !awaitingValue, "no open container, or a key without a value")
        buffer.writeInteger(closing)
        containerHasContent >>= 1
        depth -= 1
    }

    // MARK: Text

    /// Writes `utf8` escaped for a JSON string (without the quotes), in runs of bytes that
    /// need no escaping.
    private mutating func writeEscaped(_ utf8: UnsafeRawBufferPointer) {
        var runStart = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: utf8[runStart..<index]))
            }
            writeEscape(for: byte)
            runStart = index + 1
        }
        if runStart < utf8.count {
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: utf8[runStart...]))
        }
    }

    /// Writes the escape sequence for `byte`, a quote, a backslash or a control character.
    private mutating func writeEscape(for byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): buffer.writeStaticString(#"\""#)
        case UInt8(ascii: "\\"): buffer.writeStaticString(#"\\"#)
        case UInt8(ascii: "\n"): buffer.writeStaticString(#"\n"#)
        case UInt8(ascii: "\r"): buffer.writeStaticString(#"\r"#)
        case UInt8(ascii: "\t"): buffer.writeStaticString(#"\t"#)
        case 0x08: buffer.writeStaticString(#"\b"#)
        case 0x0C: buffer.writeStaticString(#"\f"#)
        default:
            buffer.writeStaticString(#"\u00"#)
            buffer.writeInteger(Hex.digit(byte >> 4))
            buffer.writeInteger(Hex.digit(byte & 0x0F))
        }
    }

    /// Writes `value` in decimal digits.
    private mutating func writeDecimal(_ value: UInt64) {
        // UInt64.max has 20 digits.
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { digits in
            var start = digits.count
            var rest = value
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest != 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: digits[start...]))
        }
    }
}
