import FoundationEssentials
import SidecarCore

/// A token endpoint's answer (RFC 6749 §5.1 success, §5.2 error), read into a grant or an
/// error. Pure.
struct OAuthTokenResponse: Decodable {
    var accessToken: String?
    var tokenType: String?
    var expiresIn: Int?
    var refreshToken: String?
    var scope: String?
    var error: String?
    var errorDescription: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
        case scope
        case error
        case errorDescription = "error_description"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = try? container.decodeIfPresent(String.self, forKey: .accessToken)
        tokenType = try? container.decodeIfPresent(String.self, forKey: .tokenType)
        // A number, or (Azure AD v1, some gateways) a string of digits.
        expiresIn =
            (try? container.decodeIfPresent(Int.self, forKey: .expiresIn))
            ?? (try? container.decodeIfPresent(String.self, forKey: .expiresIn)).flatMap { $0.flatMap(Int.init) }
            ?? (try? container.decodeIfPresent(Double.self, forKey: .expiresIn)).flatMap { $0.map { Int($0) } }
        refreshToken = try? container.decodeIfPresent(String.self, forKey: .refreshToken)
        scope = try? container.decodeIfPresent(String.self, forKey: .scope)
        error = try? container.decodeIfPresent(String.self, forKey: .error)
        errorDescription = try? container.decodeIfPresent(String.self, forKey: .errorDescription)
    }

    /// Reads an answer with HTTP status `status`. `secrets` (the request's) are scrubbed
    /// from anything quoted back; `endpoint` names the endpoint in reasons.
    static func read(status: Int, body: [UInt8], secrets: [Secret], endpoint: String) -> Result<OAuthTokenGrant, OAuthTokenError> {
        let response = try? JSONDecoder().decode(OAuthTokenResponse.self, from: Data(body))
        switch status {
        case 200..<300:
            guard let response, let token = response.accessToken, !token.isEmpty else {
                return .failure(OAuthTokenError(.malformed, "\(endpoint) answered \(status) without an access token", retryable: true))
            }
            if let type = response.tokenType, type.lowercased() != "bearer" {
                return .failure(OAuthTokenError(
                    .malformed, "\(endpoint) granted a \"\(tamed(type, secrets: secrets))\" token, not a Bearer token",
                    retryable: false))
            }
            let seconds = response.expiresIn ?? 3600
            guard seconds > 0 else {
                return .failure(OAuthTokenError(.malformed, "\(endpoint) granted a token that expires at once", retryable: true))
            }
            return .success(OAuthTokenGrant(
                accessToken: Secret(token), lifetime: .seconds(seconds),
                refreshToken: response.refreshToken.flatMap { $0.isEmpty ? nil : Secret($0) }, scope: response.scope))
        case 300..<400:
            return .failure(OAuthTokenError(
                .refused, "\(endpoint) answered \(status), a redirect; redirects are not followed, use the final URL",
                retryable: false))
        case 408, 429, 500..<600:
            return .failure(OAuthTokenError(.unavailable, "\(endpoint) answered \(status)", retryable: true))
        default:
            let code = response?.error.map { tamed($0, secrets: secrets) } ?? ""
            let detail = response?.errorDescription.map { ": " + tamed($0, secrets: secrets) } ?? ""
            let said = code.isEmpty ? "\(status)" : "\(status) \(code)\(detail)"
            switch response?.error {
            case "invalid_grant":
                return .failure(OAuthTokenError(.invalidGrant, "\(endpoint) answered \(said)", retryable: false))
            case "invalid_client", "unauthorized_client":
                return .failure(OAuthTokenError(.invalidClient, "\(endpoint) answered \(said)", retryable: false))
            default:
                return .failure(OAuthTokenError(.refused, "\(endpoint) answered \(said)", retryable: false))
            }
        }
    }

    /// What the endpoint said, fit to quote: without the request's secrets, printable ASCII
    /// only, at most 300 characters.
    static func tamed(_ text: String, secrets: [Secret]) -> String {
        var text = text
        for secret in secrets where !secret.isEmpty {
            secret.withRevealedValue { value in
                while let range = text.firstRange(of: value) { text.replaceSubrange(range, with: Secret.redacted) }
            }
        }
        let printable = text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : " " }
        let kept = String(printable.prefix(300))
        return printable.count > 300 ? kept + "…" : kept
    }
}
