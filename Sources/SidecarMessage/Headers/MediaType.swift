/// A media type for an attachment (`type/subtype; param=value`, RFC 2045 §5.1), either
/// given by the author and checked, or guessed from the filename's extension.
struct MediaType: Sendable, Hashable {
    struct Parameter: Sendable, Hashable {
        let name: String
        let value: String
    }

    struct Invalid: Error, Equatable {
        let reason: String
    }

    /// Lower-cased top-level type, e.g. `application`.
    let type: String
    /// Lower-cased subtype, e.g. `pdf`.
    let subtype: String
    let parameters: [Parameter]

    var essence: String { "\(type)/\(subtype)" }

    init(type: String, subtype: String, parameters: [Parameter] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// Parses a Content-Type value. Composite types are refused: an attachment is sent as
    /// base64, which RFC 2045 §6.4 forbids for `multipart/*` and `message/*`.
    init(parsing text: String) throws(Invalid) {
        var scanner = Scanner(Array(text.utf8))
        scanner.skipWhitespace()
        let type = scanner.token()
        guard !type.isEmpty, scanner.consume(UInt8(ascii: "/")) else {
            throw Invalid(reason: "is not of the form type/subtype, like application/pdf")
        }
        let subtype = scanner.token()
        guard !subtype.isEmpty else { throw Invalid(reason: "is not of the form type/subtype, like application/pdf") }
        var parameters: [Parameter] = []
        while true {
            scanner.skipWhitespace()
            if scanner.isAtEnd { break }
            guard scanner.consume(UInt8(ascii: ";")) else {
                throw Invalid(reason: "has something other than ; parameters after the type")
            }
            scanner.skipWhitespace()
            if scanner.isAtEnd { break }
            let name = scanner.token()
            scanner.skipWhitespace()
            guard !name.isEmpty, scanner.consume(UInt8(ascii: "=")) else {
                throw Invalid(reason: "has a parameter that is not name=value")
            }
            scanner.skipWhitespace()
            guard let value = scanner.tokenOrQuotedString() else {
                throw Invalid(reason: "has a parameter value that is not a token or a quoted string")
            }
            parameters.append(Parameter(name: CustomHeader.asciiLowercased(name), value: value))
        }
        let lowerType = CustomHeader.asciiLowercased(type)
        guard lowerType != "multipart", lowerType != "message" else {
            throw Invalid(reason: "is a multipart or message type, which cannot be sent as an attachment; use application/octet-stream")
        }
        self.init(type: lowerType, subtype: CustomHeader.asciiLowercased(subtype), parameters: parameters)
    }

    /// The media type for a filename's extension, `application/octet-stream` when unknown.
    static func guess(forFilename filename: String) -> MediaType {
        guard let dot = filename.lastIndex(of: "."), dot != filename.startIndex else {
            return MediaType(type: "application", subtype: "octet-stream")
        }
        let fileExtension = CustomHeader.asciiLowercased(String(filename[filename.index(after: dot)...]))
        let essence = byExtension[fileExtension] ?? "application/octet-stream"
        let parts = essence.split(separator: "/", maxSplits: 1)
        return MediaType(type: String(parts[0]), subtype: String(parts[1]))
    }

    private static let byExtension: [String: String] = [
        "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "json": "application/json",
        "xml": "application/xml", "doc": "application/msword", "xls": "application/vnd.ms-excel",
        "ppt": "application/vnd.ms-powerpoint",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "rtf": "application/rtf", "ics": "text/calendar", "vcf": "text/vcard", "txt": "text/plain", "log": "text/plain",
        "csv": "text/csv", "tsv": "text/tab-separated-values", "htm": "text/html", "html": "text/html",
        "md": "text/markdown", "css": "text/css", "js": "text/javascript", "png": "image/png", "jpg": "image/jpeg",
        "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml", "bmp": "image/bmp",
        "tif": "image/tiff", "tiff": "image/tiff", "ico": "image/vnd.microsoft.icon", "heic": "image/heic",
        "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "m4a": "audio/mp4", "mp4": "video/mp4",
        "mov": "video/quicktime", "webm": "video/webm", "avi": "video/x-msvideo", "7z": "application/x-7z-compressed",
        "tar": "application/x-tar", "eml": "application/octet-stream",
    ]

    private struct Scanner {
        private let bytes: [UInt8]
        private var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { index == bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == ASCII.space || bytes[index] == ASCII.tab { index += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func token() -> String {
            let start = index
            while index < bytes.count, MIMEParameter.isTokenCharacter(bytes[index]) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func tokenOrQuotedString() -> String? {
            guard consume(UInt8(ascii: "\"")) else {
                let value = token()
                return value.isEmpty ? nil : value
            }
            var value: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: value, as: UTF8.self)
                case UInt8(ascii: "\\") where index < bytes.count:
                    value.append(bytes[index])
                    index += 1
                case 32...126, ASCII.tab:
                    value.append(byte)
                default:
                    return nil
                }
            }
            return nil
        }
    }
}
