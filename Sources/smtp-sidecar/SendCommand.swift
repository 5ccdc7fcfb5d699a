import ArgumentParser
import FoundationEssentials
import SidecarClient
import SidecarCore
import SidecarMail
import SidecarProtocol

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one email through the daemon.",
        discussion: """
            Give the message with flags, or a whole `send` request's params as JSON with --json FILE
            ('-' for stdin); flags override members of the JSON. The password comes from $SMTP_PASSWORD
            (or --password-env / --password-file), never from the command line.
            Exits 0 when the server accepted the message, 1 otherwise.

              SMTP_PASSWORD=app-password smtp-sidecar send --host smtp.gmail.com --username me@gmail.com \\
                  --from me@gmail.com --to you@example.com --subject Hello --text "Hi there"
            """)

    @OptionGroup var client: ClientOptions
    @OptionGroup var credential: CredentialOptions

    @Option(help: "A JSON file with the request's params ('-' for stdin).")
    var json: String?

    @Option var from: String?
    @Option(help: "Recipient; repeat or comma-separate.") var to: [String] = []
    @Option var cc: [String] = []
    @Option var bcc: [String] = []
    @Option var replyTo: String?
    @Option var subject: String?
    @Option(help: "Plain-text body.") var text: String?
    @Option(help: "HTML body (sets the body format to html).") var html: String?
    @Option(help: "low, normal or high.") var priority: SendParams.Priority?
    @Option(help: "Custom header as Name:Value; repeatable.") var header: [String] = []
    @Option(help: "File to attach; repeatable.") var attach: [String] = []

    func run() async throws {
        var params = try baseParams()
        if let credential = try credential.credential() { params.credential = credential }
        if let id = credential.credentialID { params.credentialID = id }
        if let from { params.from = from }
        if !to.isEmpty { params.to = AddressList(to) }
        if !cc.isEmpty { params.cc = AddressList(cc) }
        if !bcc.isEmpty { params.bcc = AddressList(bcc) }
        if let replyTo { params.replyTo = replyTo }
        if let subject { params.subject = subject }
        if let text { params.text = text }
        if let html {
            params.html = html
            params.bodyFormat = .html
        }
        if let priority { params.priority = priority }
        if let timeout = credential.timeoutMs { params.timeoutMs = timeout }
        if !header.isEmpty {
            let fields = try header.map { entry -> HeaderList.Field in
                guard let field = HeaderList.Field(nameColonValue: entry) else {
                    throw ValidationError("--header expects Name:Value")
                }
                return field
            }
            params.headers = HeaderList((params.headers?.fields ?? []) + fields)
        }
        for path in attach {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            params.attachments = (params.attachments ?? []) + [
                AttachmentParams(filename: URL(fileURLWithPath: path).lastPathComponent, contentBase64: data.base64EncodedString())
            ]
        }
        let request = params
        let response = try await Self.call(socket: client.socket, op: "send", params: request)
        ResponsePrinter.print(response)
        if !response.ok { throw ExitCode.failure }
    }

    func baseParams() throws -> SendParams {
        guard let json else { return SendParams(workspaceID: credential.workspace) }
        let data =
            json == "-" ? try StandardStreams.readInput() : try Data(contentsOf: URL(fileURLWithPath: json))
        do {
            return try JSONDecoder().decode(SendParams.self, from: data)
        } catch {
            throw CLIFailure("\(json) is not valid send params: \(error)")
        }
    }

    static func call<Params: Encodable & Sendable>(socket: String, op: String, params: Params) async throws
        -> SidecarConnection.RawResponse
    {
        do {
            return try await SidecarConnection.withConnection(socketPath: socket) { sidecar in
                try await sidecar.callRaw(op, params: params)
            }
        } catch let error as SidecarError {
            throw CLIFailure(error.description)
        } catch {
            throw CLIFailure("cannot reach the sidecar at \(socket): \(error)")
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a credential: connect, secure, authenticate, QUIT. Sends no mail.",
        discussion: """
              SMTP_PASSWORD=secret smtp-sidecar verify --host smtp.example.com --port 587 --username me@example.com
            Exits 0 when the credential works, 1 otherwise.
            """)

    @OptionGroup var client: ClientOptions
    @OptionGroup var credential: CredentialOptions

    func run() async throws {
        let inline = try credential.credential()
        guard inline != nil || credential.credentialID != nil else {
            throw ValidationError("--host (or --credential-id) is required")
        }
        let params = VerifyParams(
            workspaceID: self.credential.workspace, credential: inline, credentialID: credential.credentialID,
            timeoutMs: self.credential.timeoutMs)
        let response = try await SendCommand.call(socket: client.socket, op: "verify", params: params)
        ResponsePrinter.print(response)
        if !response.ok { throw ExitCode.failure }
    }
}
