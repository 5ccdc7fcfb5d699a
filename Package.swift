// swift-tools-version: 6.1
//
// smtp-sidecar: a local daemon that sends email through users' own SMTP servers
// on behalf of workflow workers, over a length-prefixed JSON protocol on a Unix socket.
//
// Targets are layered by dependency (lowest first; ARCHITECTURE.md draws the arrows, and
// scripts/check-imports.py checks that they match the imports):
//   SidecarCore      errors with codes, the redacting Secret type, SMTPReply, how configuration
//                    values are read. FoundationEssentials only: no module the daemon links
//                    imports full Foundation (ICU, about 6 MB RSS).
//   SidecarMessage   RFC 5322 / MIME composition. No NIO.
//   CSystemd         libsystemd (pkg-config) for the systemd integration.
//   SidecarSystemd   listen fds, sd_notify, the journald LogHandler. No NIO.
//   SidecarProtocol  wire messages, the frame codec, the one JSON reader and writer. NIOCore, no
//                    server code.
//   SidecarSMTP      the SMTP client: reply codec, connection state machine, TLS, AUTH. Knows no
//                    wire protocol.
//   SidecarPool      a generic connection pool (state machine + async shell). No NIO, no SMTP.
//   CSQLite, SidecarState  the state database (SQLite): dedup records, rate counters,
//                    AES-256-GCM encrypted credentials. NIOPosix only for the NIOThreadPool
//                    the database runs on, off the event loops.
//   SidecarEgress    the SSRF guard (resolve once, refuse private/metadata addresses, pin)
//                    and the URL attachment fetcher (NIOHTTP1, no redirects, 2xx, capped).
//   SidecarClient    a small async client for the wire protocol (CLI, tests, benchmarks).
//   SidecarServer    the protocol server: listener, connections, admission, hello/ping/stats/metrics;
//                    send and verify leave through MailRoutes. Knows no SMTP. Records its metrics
//                    through CoreMetrics on a factory it is handed; knows no Prometheus. Serves the
//                    rendered text over HTTP too, when `metrics_listen` asks (NIOHTTP1).
//   SidecarMail      the mail engine beside the server: `send` and `verify`, request → draft →
//                    SMTP → result; adapts SMTP, Pool, Egress and State to each other, owns their
//                    configuration keys, and builds them (MailEngine, CredentialAdministration).
//   smtp-sidecar     the executable and composition root, over Server, Mail, Systemd and Client only:
//                    configuration (read once), wiring, `serve`, `send`, `verify`, `ping`, `stats`,
//                    `metrics`, `credentials`. Owns the Prometheus registry the others record into.
//   journald-probe, sidecar-message-bench: a test helper and a benchmark program.
//   SidecarFuzz      the libFuzzer targets: frame and request decoders, SMTP reply decoder,
//                    address parser (scripts/fuzz.sh).
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Release builds specialize generics across our modules (the pool's state machine,
    // the composer's writers and sinks); without it they run through witness tables and
    // metadata lookups on every byte and event.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "SMTPSidecar",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "smtp-sidecar", targets: ["smtp-sidecar"]),
        .library(name: "SidecarClient", targets: ["SidecarClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // The shared state backend of a fleet (state_backend = postgres).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Metrics: the server and the mail engine record through swift-metrics' API only
        // (CoreMetrics, with a factory handed to them); the executable alone knows the
        // Prometheus registry that renders them for the `metrics` operation.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(name: "SidecarCore", swiftSettings: strictSettings),
        .target(name: "SidecarMessage", dependencies: ["SidecarCore"], swiftSettings: strictSettings),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(
            name: "SidecarSystemd",
            dependencies: ["CSystemd", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarProtocol",
            dependencies: ["SidecarCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarClient",
            dependencies: [
                "SidecarProtocol", "SidecarCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarSMTP",
            dependencies: [
                "SidecarCore", "SidecarMessage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarPool", dependencies: [],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarEgress",
            dependencies: [
                "SidecarCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "SidecarState",
            dependencies: [
                "CSQLite", "SidecarCore", .product(name: "Crypto", package: "swift-crypto"),
                // NIOThreadPool: the thread the database runs on, off the event loops.
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarStatePostgres",
            dependencies: [
                "SidecarState", "SidecarCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // The database connections' own event loop and the operations' timers.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "state-crash-probe", dependencies: ["SidecarState"], swiftSettings: strictSettings),
        .target(
            name: "SidecarMail",
            dependencies: [
                "SidecarCore", "SidecarMessage", "SidecarSMTP", "SidecarProtocol", "SidecarPool", "SidecarEgress",
                "SidecarState", "SidecarStatePostgres",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // The keyed fingerprint of a secret in a pool key (SecretFingerprint).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarServer",
            dependencies: [
                "SidecarCore", "SidecarProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // The optional `metrics_listen` HTTP listener for scrapers.
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "smtp-sidecar",
            dependencies: [
                "SidecarServer", "SidecarMail", "SidecarClient", "SidecarSystemd", "SidecarProtocol", "SidecarCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        // The fuzz targets (frame and request decoders, SMTP reply decoder, address parser):
        // a library here (compiled with every build, so it stays in step), linked with
        // libFuzzer by scripts/fuzz.sh. It imports SidecarSMTP and SidecarMessage with
        // @testable (debug builds, as fuzz.sh makes, allow it) to reach their parsers.
        .target(
            name: "SidecarFuzz",
            dependencies: [
                "SidecarProtocol", "SidecarCore", "SidecarSMTP", "SidecarMessage",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Fuzz", exclude: ["Seeds"], swiftSettings: strictSettings
        ),
        .executableTarget(name: "sidecar-message-bench", dependencies: ["SidecarMessage"], swiftSettings: strictSettings),
        .executableTarget(
            name: "sidecar-bench", dependencies: ["SidecarClient", "SidecarProtocol", "SidecarCore"],
            swiftSettings: strictSettings),
        .executableTarget(
            name: "journald-probe",
            dependencies: ["SidecarSystemd", "SidecarCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SidecarTestSupport",
            dependencies: [
                "SidecarProtocol", "SidecarClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SidecarTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "SidecarCoreTests", dependencies: ["SidecarCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "SidecarMessageTests",
            dependencies: ["SidecarMessage", "SidecarCore"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SidecarSystemdTests",
            dependencies: [
                "SidecarSystemd", "SidecarCore", "SidecarTestSupport", "journald-probe",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SidecarProtocolTests",
            dependencies: [
                "SidecarProtocol", "SidecarCore", "SidecarClient", "SidecarTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SidecarSMTPTests",
            dependencies: [
                "SidecarSMTP", "SidecarCore", "SidecarMessage", "SidecarTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SidecarEgressTests",
            dependencies: [
                "SidecarEgress", "SidecarCore", "SidecarMessage", "SidecarMail",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SidecarPoolTests", dependencies: ["SidecarPool", "SidecarTestSupport"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SidecarStateTests",
            dependencies: [
                "SidecarState", "SidecarStatePostgres", "SidecarCore", "SidecarTestSupport", "state-crash-probe",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "SidecarMailTests",
            dependencies: [
                "SidecarMail", "SidecarSMTP", "SidecarMessage", "SidecarProtocol", "SidecarCore", "SidecarEgress",
                "SidecarPool", "SidecarState", "SidecarTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SidecarServerTests",
            dependencies: [
                "SidecarServer", "SidecarClient", "SidecarProtocol", "SidecarCore", "SidecarTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SMTPSidecarTests",
            dependencies: [
                "smtp-sidecar", "SidecarCore", "SidecarEgress", "SidecarMail", "SidecarPool", "SidecarProtocol",
                "SidecarServer", "SidecarTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "SidecarClient", "SidecarProtocol", "SidecarCore", "SidecarTestSupport", "smtp-sidecar",
            ],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
