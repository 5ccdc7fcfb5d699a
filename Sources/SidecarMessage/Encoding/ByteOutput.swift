/// Where the encoders put their output: a byte array when serialising, a counter when
/// only the exact size is wanted. Encoders are generic over it, so sizing a 10 MB body
/// runs the same code as writing it without holding the encoded copy.
///
/// A run is a buffer pointer, not any collection: when a caller is not specialised for its
/// output (the async writer's generic chain often is not), a generic run would reach the
/// standard library's unspecialised `Array.append(contentsOf:)`, element by element
/// through witness tables; a buffer pointer reaches a specialised copy.
protocol ByteOutput {
    mutating func append(_ byte: UInt8)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>)
}

extension ByteOutput {
    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }
}

extension Array: ByteOutput where Element == UInt8 {}

/// Counts bytes and keeps none.
struct ByteCounter: ByteOutput {
    private(set) var count = 0

    mutating func append(_ byte: UInt8) {
        count += 1
    }

    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        count += bytes.count
    }
}

enum ASCII {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let tab: UInt8 = 9
    static let space: UInt8 = 32
    static let equals: UInt8 = 61
    static let crlf: [UInt8] = [13, 10]
    static let upperHexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}
