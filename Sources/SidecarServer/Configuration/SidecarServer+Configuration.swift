extension SidecarServer {
    /// What the protocol server is configured with, and its defaults: where it listens,
    /// who may connect, and its limits. The executable reads it from its configuration
    /// file (keys in `packaging/smtp-sidecar.conf`).
    public struct Configuration: Sendable, Equatable {
        /// Where to bind when not socket-activated (`socket_path`).
        public var socketPath: String = "/run/smtp-sidecar/smtp-sidecar.sock"
        /// File mode of a socket the daemon binds itself (`socket_mode`, octal).
        public var socketMode: UInt32 = 0o660
        /// Group (name or gid) of a socket the daemon binds itself; nil leaves it (`socket_group`).
        public var socketGroup: String?
        /// Peers allowed by uid or user name (`allowed_uids`). With both lists empty, any peer
        /// that can open the socket is allowed (the socket's mode and group decide).
        public var allowedUIDs: [String] = []
        /// Peers allowed by primary gid or group name (`allowed_gids`).
        public var allowedGIDs: [String] = []
        /// Client connections open at once; more are refused with `too_many_connections`.
        public var maxConnections: Int = 256
        /// Requests processed at once per connection; further frames wait unread.
        public var maxInFlightPerConnection: Int = 32
        /// Largest frame payload accepted (`max_frame_bytes`).
        public var maxFrameBytes: Int = 32 * 1024 * 1024
        /// A connection with nothing in flight and no frame for this long is closed.
        public var idleTimeoutSeconds: Int = 300
        /// On SIGTERM, how long in-flight requests may take before they are abandoned.
        public var shutdownTimeoutSeconds: Int = 25
        /// How often `STATUS=` is sent to systemd.
        public var statusIntervalSeconds: Int = 5
        /// Where to serve the metrics over HTTP for a scraper (`metrics_listen`, `host:port`);
        /// nil (the default): no HTTP listener, the metrics only through the `metrics` operation.
        public var metricsListen: MetricsListen?

        /// A TCP address to listen on: a host name or address, and a port.
        public struct MetricsListen: Sendable, Equatable {
            public var host: String
            public var port: Int

            public init(host: String, port: Int) {
                self.host = host
                self.port = port
            }

            /// `host:port`, `[ipv6]:port`; nil if it is neither.
            public init?(_ text: String) {
                guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                    (1...65535).contains(port)
                else { return nil }
                var host = String(text[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { return nil }
                self.init(host: host, port: port)
            }
        }

        public init() {}
    }
}
