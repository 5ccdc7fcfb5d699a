import NIOCore
import NIOPosix
import NIOSSL
import SidecarCore
import SidecarMessage
import Testing

@testable import SidecarEgress

@Suite struct AttachmentFetcherTests {
    static let body: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    static let field = "params.attachments[0].url"

    static let routes: TestHTTPServer.Route = { path in
        switch path {
        case "/ok":
            return [
                .send("HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: \(body.count)\r\n\r\n"),
                .sendBytes(body),
            ]
        case "/chunked":
            var steps: [TestHTTPServer.Step] = [.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")]
            var offset = 0
            while offset < body.count {
                let end = min(offset + 7_000, body.count)
                steps.append(.send(String(end - offset, radix: 16) + "\r\n"))
                steps.append(.sendBytes(Array(body[offset..<end])))
                steps.append(.send("\r\n"))
                offset = end
            }
            steps.append(.send("0\r\n\r\n"))
            return steps
        case "/empty":
            // A 204 has no body by definition: the server keeps the connection open, and
            // the fetch must end at the head, not wait for EOF.
            return [.send("HTTP/1.1 204 No Content\r\n\r\n"), .stall]
        case "/redirect":
            return [.send("HTTP/1.1 302 Found\r\nLocation: /secret?token=abc\r\nContent-Length: 0\r\n\r\n")]
        case "/missing":
            return [.send("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")]
        case "/unavailable":
            return [.send("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")]
        case "/big-declared":
            return [.send("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"), .stall]
        case "/big-streamed":
            return [.send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), .sendBytes(Array(body[0..<5000]))]
        case "/big-chunked":
            return [
                .send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
                .send("fa0\r\n"), .sendBytes(Array(body[0..<4000])), .send("\r\n"),
                .stall,
            ]
        case "/stall-headers":
            return [.stall]
        case "/stall-body":
            return [.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), .stall]
        case "/truncated":
            return [.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")]
        default:
            return [.send("HTTP/1.1 500 Unexpected\r\nContent-Length: 0\r\n\r\n")]
        }
    }

    static func fetcher(
        maxBytes: Int = 25_000_000,
        // Far above any time a step can take on a loaded machine: a test that means a
        // timeout sets its own.
        idle: TimeAmount = .seconds(60),
        overall: TimeAmount = .seconds(120),
        allow: [String] = ["127.0.0.1/32"],
        names: [String: [String]] = [:],
        extraCA: String? = nil
    ) throws -> AttachmentFetcher {
        try AttachmentFetcher(
            configuration: AttachmentFetchConfiguration(
                maxBytes: maxBytes,
                connectTimeout: .seconds(2),
                idleReadTimeout: idle,
                overallTimeout: overall,
                additionalCAPEM: extraCA
            ),
            destinations: DestinationResolver(
                policy: EgressPolicy(allowedCIDRs: allow.compactMap(CIDR.init)),
                resolver: StaticResolver(names)
            ),
            threadPool: spoolThreads
        )
    }

    /// The spool file's I/O on threads of these tests' own, not `NIOThreadPool.singleton`,
    /// which other suites running alongside load with `getaddrinfo` calls (seconds each for
    /// a name that does not resolve here): a stalled-server check once took 8.2 s behind them.
    static let spoolThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    static func collect(_ source: FetchedAttachment) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in source.makeChunks() { bytes += chunk }
        return bytes
    }

    static func fetchError(
        _ fetcher: AttachmentFetcher,
        _ url: String
    ) async -> SidecarError? {
        do {
            _ = try await fetcher.fetch(url, name: "report.pdf", field: field)
            return nil
        } catch {
            return error
        }
    }

    @Test func fetchesExactBytesRepeatably() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let attachment = try await Self.fetcher().fetch(
                "http://127.0.0.1:\(server.port)/ok", name: "report.pdf", field: Self.field)
            #expect(attachment.byteCount == Self.body.count)
            #expect(attachment.contentType == "application/pdf")
            #expect(try await Self.collect(attachment) == Self.body)
            // Each serialisation reads the same bytes again.
            #expect(try await Self.collect(attachment) == Self.body)
        }
    }

    @Test func fetchesChunkedBody() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let attachment = try await Self.fetcher().fetch(
                "http://127.0.0.1:\(server.port)/chunked", name: "report.pdf", field: Self.field)
            #expect(attachment.byteCount == Self.body.count)
            #expect(try await Self.collect(attachment) == Self.body)
        }
    }

    @Test func emptyBodyIsAnEmptyAttachment() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let attachment = try await Self.fetcher().fetch(
                "http://127.0.0.1:\(server.port)/empty", name: "report.pdf", field: Self.field)
            #expect(attachment.byteCount == 0)
            #expect(try await Self.collect(attachment).isEmpty)
        }
    }

    @Test func theRequestsDeadlineEndsAStalledFetch() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let fetcher = try Self.fetcher()  // its own limits: 60 s idle, 120 s overall
            do throws(SidecarError) {
                _ = try await fetcher.fetch(
                    "http://127.0.0.1:\(server.port)/stall-headers", name: "report.pdf", field: Self.field,
                    deadline: .now() + .milliseconds(300))
                Issue.record("the fetch succeeded")
            } catch {
                #expect(error.code == .requestTimeout)
                #expect(error.field == Self.field)
                #expect(error.message.contains("\"report.pdf\""))
            }
        }
    }

    @Test func pinnedNameConnectsToVettedAddressAndFallsBack() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            // "files.test" exists only in the test resolver. Its first address has nothing
            // listening (port 1), so the fetch must move on to the second.
            let fetcher = try Self.fetcher(names: ["files.test": ["127.0.0.1#1", "127.0.0.1"]])
            let attachment = try await fetcher.fetch(
                "http://files.test:\(server.port)/ok", name: "report.pdf", field: Self.field)
            #expect(try await Self.collect(attachment) == Self.body)
        }
    }

    @Test func redirectIsRefusedAndNotFollowed() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let error = await Self.fetchError(try Self.fetcher(), "http://127.0.0.1:\(server.port)/redirect")
            #expect(error?.code == .attachmentFetchFailed)
            #expect(error?.field == Self.field)
            #expect(error?.retryable == false)
            let message = error?.message ?? ""
            #expect(message.contains("\"report.pdf\""))
            #expect(message.contains("302 Found"))
            #expect(message.contains("redirect to /secret"))
            #expect(!message.contains("token=abc"))
            #expect(server.requestedPaths == ["/redirect"])
        }
    }

    @Test(arguments: [("/missing", "404 Not Found", false), ("/unavailable", "503 Service Unavailable", true)])
    func non2xxIsRefused(path: String, status: String, retryable: Bool) async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let error = await Self.fetchError(try Self.fetcher(), "http://127.0.0.1:\(server.port)\(path)")
            #expect(error?.code == .attachmentFetchFailed)
            #expect(error?.message.contains(status) == true)
            #expect(error?.retryable == retryable)
        }
    }

    @Test(arguments: ["/big-declared", "/big-streamed", "/big-chunked"])
    func bodyOverTheCapIsRefused(path: String) async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let error = await Self.fetchError(
                try Self.fetcher(maxBytes: 3_000), "http://127.0.0.1:\(server.port)\(path)")
            #expect(error?.code == .attachmentFetchFailed)
            #expect(error?.message.contains("larger than the limit of 3000 bytes") == true, "\(error?.message ?? "")")
        }
    }

    @Test(arguments: ["/stall-headers", "/stall-body"])
    func stalledServerTimesOut(path: String) async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let clock = ContinuousClock()
            let start = clock.now
            let error = await Self.fetchError(
                try Self.fetcher(idle: .milliseconds(300)), "http://127.0.0.1:\(server.port)\(path)")
            #expect(error?.code == .attachmentFetchFailed)
            #expect(error?.message.contains("read timed out") == true, "\(error?.message ?? "")")
            #expect(error?.retryable == true)
            // The 300 ms idle timeout ended it, not the helper's default of 60 s; the margin
            // is for a machine loaded by the rest of the suite.
            #expect(clock.now - start < .seconds(15))
        }
    }

    @Test func overallDeadlineCutsASlowFetch() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let error = await Self.fetchError(
                try Self.fetcher(idle: .seconds(10), overall: .milliseconds(400)),
                "http://127.0.0.1:\(server.port)/stall-body")
            #expect(error?.code == .attachmentFetchFailed)
            #expect(error?.message.contains("longer than the time limit") == true, "\(error?.message ?? "")")
        }
    }

    @Test func truncatedBodyIsRefused() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let error = await Self.fetchError(try Self.fetcher(), "http://127.0.0.1:\(server.port)/truncated")
            #expect(error?.code == .attachmentFetchFailed)
        }
    }

    @Test func loopbackIsRefusedByDefaultAndNothingIsRequested() async throws {
        try await TestHTTPServer.with(route: Self.routes) { server in
            let fetcher = try Self.fetcher(allow: [], names: ["files.test": ["127.0.0.1"]])
            for url in ["http://127.0.0.1:\(server.port)/ok", "http://files.test:\(server.port)/ok", "http://2130706433:\(server.port)/ok"] {
                let error = await Self.fetchError(fetcher, url)
                #expect(error?.code == .destinationForbidden)
                #expect(error?.field == Self.field)
                #expect(error?.message.contains("loopback") == true)
                #expect(error?.message.contains("report.pdf") == true)
            }
            #expect(server.requestedPaths.isEmpty)
        }
    }

    @Test(arguments: [
        ("ftp://127.0.0.1/x", "not an http or https URL"),
        ("http://user:pw@127.0.0.1/x", "credentials in URLs are refused"),
        ("http://127.0.0.1/a b", "percent-encode"),
    ])
    func badURLsAreRefusedBeforeAnyConnection(url: String, reason: String) async throws {
        let error = await Self.fetchError(try Self.fetcher(), url)
        #expect(error?.code == .attachmentFetchFailed)
        #expect(error?.message.contains(reason) == true)
        #expect(error?.message.contains("pw") == false)
    }

    @Test func connectionRefusedIsReported() async throws {
        let error = await Self.fetchError(try Self.fetcher(), "http://127.0.0.1:1/ok")
        #expect(error?.code == .attachmentFetchFailed)
        #expect(error?.message.contains("could not connect to 127.0.0.1:1") == true)
        #expect(error?.retryable == true)
    }
}
