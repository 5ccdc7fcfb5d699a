import NIOCore
import NIOHTTP1
import NIOSSL
import SidecarCore

/// Builds the `attachment_fetch_failed` errors of one fetch: each names the attachment and
/// the reason, never the URL's query (it may carry a token).
struct FetchFailureReporter: Sendable {
    let name: String
    let field: String
    /// Whether the fetch's overall deadline is its request's (`timeout_ms`) rather than the
    /// fetcher's own limit: passing it is then `request_timeout`.
    var deadlineIsRequests = false

    var shownName: String { DestinationResolver.printable(name) }

    func error(_ reason: String, retryable: Bool) -> SidecarError {
        SidecarError(
            code: .attachmentFetchFailed,
            message: "Attachment \"\(shownName)\" could not be fetched: \(reason).",
            retryable: retryable,
            field: field
        )
    }

    func checkStatus(_ head: HTTPResponseHead, url: AttachmentURL) throws(SidecarError) {
        let code = Int(head.status.code)
        let status = "\(code) \(head.status.reasonPhrase)"
        switch code {
        case 200..<300:
            return
        case 300..<400:
            let target = head.headers["Location"].first.map { location in
                let redactedTarget = (try? AttachmentURL(location))?.redacted ?? AttachmentURL.redactingQuery(location)
                return " to \(DestinationResolver.printable(redactedTarget))"
            } ?? ""
            throw error(
                "the server at \(url.redacted) answered \(status), a redirect\(target); redirects are not followed, use the final URL",
                retryable: false
            )
        case 408, 429, 500..<600:
            throw error("the server at \(url.redacted) answered \(status)", retryable: true)
        default:
            throw error("the server at \(url.redacted) answered \(status)", retryable: false)
        }
    }

    func tooLarge(limit: Int, declared: Int?) -> SidecarError {
        let size = declared.map { " (\($0) bytes)" } ?? ""
        return error("it is larger than the limit of \(limit) bytes\(size)", retryable: false)
    }

    func timedOut(_ url: AttachmentURL, overall: Bool) -> SidecarError {
        if overall, deadlineIsRequests {
            return SidecarError(
                code: .requestTimeout,
                message: "The time allowed for this request (timeout_ms) ran out while fetching attachment "
                    + "\"\(shownName)\" from \(url.hostHeader). Nothing was sent; try again later or allow more time.",
                retryable: true,
                field: field
            )
        }
        return overall
            ? error("fetching from \(url.hostHeader) took longer than the time limit", retryable: true)
            : error("the server at \(url.hostHeader) stopped sending data (read timed out)", retryable: true)
    }

    func channelError(_ failure: any Error, url: AttachmentURL) -> SidecarError {
        switch failure {
        case FetchTimeout.idle:
            return timedOut(url, overall: false)
        case FetchTimeout.overall:
            return timedOut(url, overall: true)
        case let tls where EgressTLS.failure(tls) == .wrongName:
            return error("the TLS certificate of \(url.hostHeader) is not valid for that name", retryable: false)
        case let tls where EgressTLS.failure(tls) == .untrusted:
            return error("the TLS certificate of \(url.hostHeader) is not trusted", retryable: false)
        case let tls where EgressTLS.failure(tls) == .handshake:
            return error("the TLS connection to \(url.hostHeader) failed", retryable: true)
        case is HTTPParserError:
            return error("the server at \(url.hostHeader) sent a malformed HTTP response", retryable: false)
        default:
            return error("the connection to \(url.hostHeader) failed", retryable: true)
        }
    }
}
