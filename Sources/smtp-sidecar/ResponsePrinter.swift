import Foundation
import SidecarClient
import SidecarCore

/// Prints a response for people: the result as indented JSON, or the error's code, message
/// and SMTP reply on stderr.
enum ResponsePrinter {
    static func print(_ response: SidecarConnection.RawResponse) {
        if let object = try? JSONSerialization.jsonObject(with: response.json),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        {
            Swift.print(String(decoding: data, as: UTF8.self))
        }
        if let error = response.error {
            var line = "error: \(error.code): \(error.message)"
            if let smtp = error.smtp { line += " [server said: \(smtp)]" }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
