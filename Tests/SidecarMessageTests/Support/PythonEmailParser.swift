import Foundation

/// Runs `Fixtures/parse_message.py` (Python's standard `email` package) on a message and
/// returns what it read: an implementation independent of ours.
enum PythonEmailParser {
    struct ParsedAddress: Decodable, Equatable, CustomStringConvertible {
        let displayName: String
        let addrSpec: String

        init(_ displayName: String, _ addrSpec: String) {
            self.displayName = displayName
            self.addrSpec = addrSpec
        }

        enum CodingKeys: String, CodingKey {
            case displayName = "display_name"
            case addrSpec = "addr_spec"
        }

        var description: String { "\(displayName) <\(addrSpec)>" }
    }

    struct ParsedPart: Decodable {
        let contentType: String
        let charset: String?
        let transferEncoding: String?
        let disposition: String?
        let filename: String?
        let contentID: String?
        let defects: [String]
        let boundary: String?
        let parts: [ParsedPart]?
        let payloadBase64: String?

        enum CodingKeys: String, CodingKey {
            case contentType = "content_type"
            case charset
            case transferEncoding = "transfer_encoding"
            case disposition, filename
            case contentID = "content_id"
            case defects, boundary, parts
            case payloadBase64 = "payload_base64"
        }

        /// The decoded body bytes of a leaf part.
        var payload: [UInt8]? {
            payloadBase64.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        }

        /// This part and all its descendants, depth first.
        var allParts: [ParsedPart] {
            [self] + (parts ?? []).flatMap(\.allParts)
        }

        var leaves: [ParsedPart] {
            allParts.filter { $0.parts == nil }
        }
    }

    struct ParsedMessage: Decodable {
        let headerNames: [String]
        let headers: [String: [String]]
        let subject: String?
        let from: [ParsedAddress]?
        let to: [ParsedAddress]?
        let cc: [ParsedAddress]?
        let replyTo: [ParsedAddress]?
        let messageID: String?
        let structure: ParsedPart

        enum CodingKeys: String, CodingKey {
            case headerNames = "header_names"
            case headers, subject, from, to, cc
            case replyTo = "reply_to"
            case messageID = "message_id"
            case structure
        }

        /// Every defect Python's parser reported, anywhere in the message.
        var defects: [String] { structure.allParts.flatMap(\.defects) }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let scriptURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parse_message.py")

    static func parse(_ message: [UInt8]) throws -> ParsedMessage {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Write and read concurrently so a large message cannot deadlock on full pipes.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(message))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "parse_message.py exited with \(process.terminationStatus): \(errorText)")
        }
        return try JSONDecoder().decode(ParsedMessage.self, from: data)
    }
}
