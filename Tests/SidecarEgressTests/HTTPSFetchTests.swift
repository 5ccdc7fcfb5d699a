import Foundation
import NIOSSL
import SidecarCore
import Testing

@testable import SidecarEgress

/// HTTPS through the guard: a self-signed certificate for `files.test` made with openssl,
/// trusted through `additionalCAPEM`; the name resolves (in the test resolver) to 127.0.0.1.
@Suite struct HTTPSFetchTests {
    struct Credentials {
        let certificatePEM: String
        let serverContext: NIOSSLContext
    }

    static func makeCredentials() throws -> Credentials {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("egress-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=files.test",
            "-addext", "subjectAltName=DNS:files.test",
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        let pem = try String(contentsOfFile: certificate, encoding: .utf8)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        )
        configuration.minimumTLSVersion = .tlsv12
        return Credentials(certificatePEM: pem, serverContext: try NIOSSLContext(configuration: configuration))
    }

    @Test func fetchesOverVerifiedTLSWithTheHostNameOfAPinnedAddress() async throws {
        let credentials = try Self.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: AttachmentFetcherTests.routes) { server in
            let fetcher = try AttachmentFetcherTests.fetcher(
                names: ["files.test": ["127.0.0.1"]], extraCA: credentials.certificatePEM)
            let attachment = try await fetcher.fetch(
                "https://files.test:\(server.port)/chunked", name: "report.pdf", field: AttachmentFetcherTests.field)
            #expect(try await AttachmentFetcherTests.collect(attachment) == AttachmentFetcherTests.body)
        }
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let credentials = try Self.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: AttachmentFetcherTests.routes) { server in
            let fetcher = try AttachmentFetcherTests.fetcher(names: ["files.test": ["127.0.0.1"]])
            let error = await AttachmentFetcherTests.fetchError(fetcher, "https://files.test:\(server.port)/ok")
            #expect(error?.code == .attachmentFetchFailed)
            #expect(error?.message.contains("certificate of files.test") == true, "\(error?.message ?? "")")
            #expect(server.requestedPaths.isEmpty)
        }
    }

    @Test func certificateForAnotherNameIsRefused() async throws {
        let credentials = try Self.makeCredentials()
        try await TestHTTPServer.with(tls: credentials.serverContext, route: AttachmentFetcherTests.routes) { server in
            let fetcher = try AttachmentFetcherTests.fetcher(
                names: ["other.test": ["127.0.0.1"]], extraCA: credentials.certificatePEM)
            let error = await AttachmentFetcherTests.fetchError(fetcher, "https://other.test:\(server.port)/ok")
            #expect(error?.code == .attachmentFetchFailed)
            #expect(error?.message.contains("certificate") == true, "\(error?.message ?? "")")
            #expect(server.requestedPaths.isEmpty)
        }
    }
}
