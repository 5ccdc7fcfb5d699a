import SidecarCore

extension PostgresStateConfiguration {
    /// Reads `postgres://user@host:port/database?sslmode=…` (or `postgresql://`). A URL with
    /// a password is refused: the password comes from a file or a systemd credential, so
    /// that it is never in the configuration file, the environment or the journal.
    /// `sslmode` takes `disable`, `prefer` (the default) or `require`.
    public init(url: String, password: Secret?) throws(PostgresStateError) {
        func invalid(_ why: String) -> PostgresStateError {
            PostgresStateError(.invalidConfiguration, "postgres_url: \(why)")
        }
        var rest = Substring(url)
        if rest.hasPrefix("postgres://") {
            rest = rest.dropFirst("postgres://".count)
        } else if rest.hasPrefix("postgresql://") {
            rest = rest.dropFirst("postgresql://".count)
        } else {
            throw invalid("must start with postgres:// (postgres://user@host:5432/database)")
        }
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("names no database (…/database)") }
        let database = String(rest[rest.index(after: slash)...])
        var authority = rest[..<slash]
        guard !database.isEmpty, !database.contains("/") else { throw invalid("names no database (…/database)") }
        guard let at = authority.lastIndex(of: "@") else { throw invalid("names no user (postgres://user@host/…)") }
        let userInfo = authority[..<at]
        authority = authority[authority.index(after: at)...]
        guard !userInfo.contains(":") else {
            throw invalid("must not hold a password: give it in postgres_password_file or the systemd credential "
                + "smtp-sidecar.postgres-password")
        }
        guard !userInfo.isEmpty else { throw invalid("names no user (postgres://user@host/…)") }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("has an unclosed [") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw invalid("has a bad port") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw invalid("names no host") }
        var port = 5432
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else { throw invalid("has a bad port") }
            port = parsed
        }
        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "sslmode", let mode = TLSMode(rawValue: String(parts[1])) else {
                throw invalid("takes one parameter, sslmode=disable|prefer|require")
            }
            tls = mode
        }
        self.init(
            host: String(host), port: port, username: Self.percentDecoded(userInfo), database: Self.percentDecoded(Substring(database)),
            password: password, tls: tls)
    }

    /// `%XX` escapes decoded (a user or database name with `@` or `/` in it).
    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
