import SidecarCore
import Testing

@testable import SidecarSMTP

/// Builders for driving ``SMTPClientStateMachine`` synchronously.
enum Fixtures {
    static let password = Secret("pa55-word!")
    static let token = Secret("ya29.token-value")
    static let credentials = SMTPCredentials.password("user@example.com", password)
    static let fullEHLO = ["PIPELINING", "SIZE 1000", "AUTH PLAIN LOGIN XOAUTH2", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]

    static let timeouts = SMTPTimeouts(
        connect: .seconds(1), tlsHandshake: .seconds(2), greeting: .seconds(3), command: .seconds(4), mail: .seconds(5),
        rcpt: .seconds(6), dataInitiation: .seconds(7), dataBlock: .seconds(8), dataTermination: .seconds(9)
    )

    static func machine(
        _ security: SMTPSecurityMode = .plaintext,
        credentials: SMTPCredentials? = nil,
        allowsPlaintextAuthentication: Bool = false,
        extensions: SMTPExtensionUse = .all
    ) -> SMTPClientStateMachine {
        SMTPClientStateMachine(
            configuration: .init(
                clientName: "client.test",
                security: security,
                credentials: credentials,
                timeouts: timeouts,
                allowsPlaintextAuthentication: allowsPlaintextAuthentication,
                extensions: extensions
            )
        )
    }

    static func reply(_ code: Int, _ text: String = "ok") -> SMTPResponse { SMTPResponse(code, text) }

    static func ehlo(_ keywords: [String]) -> SMTPResponse {
        SMTPResponse(code: 250, lines: ["mx.example.com Hello"] + keywords)
    }

    /// A plaintext session without AUTH, ready with `keywords`.
    static func ready(_ keywords: [String] = fullEHLO, extensions: SMTPExtensionUse = .all) -> SMTPClientStateMachine {
        var machine = machine(.plaintext, extensions: extensions)
        _ = machine.channelActive()
        _ = machine.replyReceived(reply(220, "mx ESMTP"))
        let action = machine.replyReceived(ehlo(keywords))
        precondition(action == .complete(.connected(SMTPCapabilities(ehloLines: ["mx.example.com Hello"] + keywords))))
        return machine
    }

    static func request(
        _ recipients: [String] = ["a@example.com", "b@example.com"],
        size: Int? = 500,
        smtputf8: Bool = false
    ) -> SMTPTransactionRequest {
        SMTPTransactionRequest(reversePath: "from@example.com", recipients: recipients, size: size, requiresSMTPUTF8: smtputf8)
    }

    /// A ready machine with `request` sent and DATA accepted (body streaming).
    static func streaming(pipelining: Bool = true) -> SMTPClientStateMachine {
        var machine = ready(pipelining ? fullEHLO : fullEHLO.filter { $0 != "PIPELINING" })
        _ = machine.sendRequested(request(["a@example.com"]))
        _ = machine.replyReceived(reply(250, "2.1.0 ok"))
        if !pipelining {
            _ = machine.replyReceived(reply(250, "2.1.5 ok"))
        } else {
            _ = machine.replyReceived(reply(250, "2.1.5 ok"))
        }
        let action = machine.replyReceived(reply(354, "go ahead"))
        precondition(action == .streamBody(after: [], transfer: .data, arm: machine.timer(.dataBlock)))
        return machine
    }

    /// After the final dot.
    static func awaitingFinalReply() -> SMTPClientStateMachine {
        var machine = streaming()
        _ = machine.bodyChunkReady()
        _ = machine.bodyFinished()
        return machine
    }

    static func base64(_ text: String) -> String { SMTPAuthExchange.base64(Array(text.utf8)) }
}

extension SMTPClientStateMachine.Action {
    /// The commands written by a `.send`, `.sendMessage` or `.streamBody`, else empty.
    var commands: [SMTPCommand] {
        switch self {
        case .send(let commands, _), .sendMessage(let commands, _, _), .streamBody(let commands, _, _): commands
        default: []
        }
    }

    var closeCompletion: SMTPClientStateMachine.Completion? {
        if case .close(let completion, _) = self { return completion }
        return nil
    }

    var connectFailure: SMTPFailure? {
        if case .close(.connectFailed(let failure)?, _) = self { return failure }
        return nil
    }

    var sendResult: SMTPSendResult? {
        switch self {
        case .complete(.transaction(let result)), .close(.transaction(let result)?, _): return result
        default: return nil
        }
    }

    var isClose: Bool {
        if case .close = self { return true }
        return false
    }
}
