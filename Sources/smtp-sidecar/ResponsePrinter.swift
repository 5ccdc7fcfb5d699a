import FoundationEssentials
import SidecarClient
import SidecarCore

/// Prints a response for people: the result as indented JSON, or the error's code, message
/// and SMTP reply on stderr.
enum ResponsePrinter {
    private static let pretty: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func print(_ response: SidecarConnection.RawResponse) {
        if let value = try? JSONDecoder().decode(JSONValue.self, from: response.json),
            let data = try? pretty.encode(value)
        {
            Swift.print(String(decoding: data, as: UTF8.self))
        }
        if let error = response.error {
            var line = "error: \(error.code): \(error.message)"
            if let smtp = error.smtp { line += " [server said: \(smtp)]" }
            StandardStreams.writeError(line + "\n")
        }
    }
}
