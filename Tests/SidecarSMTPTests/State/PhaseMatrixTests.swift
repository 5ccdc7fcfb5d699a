import SidecarCore
import Testing

@testable import SidecarSMTP

/// 421, timeouts and the overall deadline at every phase.
@Suite struct PhaseMatrixTests {
    typealias F = Fixtures

    /// A point in a session: how to get there, the phase reported there, and the timer
    /// armed there.
    struct Point: Sendable, CustomTestStringConvertible {
        let name: String
        let phase: SMTPPhase
        let timer: SMTPClientStateMachine.TimerKind
        /// Whether a failure here is of an operation in flight that is a send (vs connect).
        let inTransaction: Bool
        let afterDot: Bool
        let drive: @Sendable () -> SMTPClientStateMachine

        var testDescription: String { name }

        static let all: [Point] = [
            Point(name: "implicit TLS handshake", phase: .tls, timer: .tlsHandshake, inTransaction: false, afterDot: false) {
                var machine = F.machine(.implicitTLS)
                _ = machine.channelActive()
                return machine
            },
            Point(name: "greeting", phase: .greeting, timer: .greeting, inTransaction: false, afterDot: false) {
                var machine = F.machine(.startTLS)
                _ = machine.channelActive()
                return machine
            },
            Point(name: "EHLO", phase: .ehlo, timer: .ehlo, inTransaction: false, afterDot: false) {
                var machine = F.machine(.startTLS)
                _ = machine.channelActive()
                _ = machine.replyReceived(F.reply(220))
                return machine
            },
            Point(name: "STARTTLS", phase: .tls, timer: .startTLS, inTransaction: false, afterDot: false) {
                var machine = F.machine(.startTLS)
                _ = machine.channelActive()
                _ = machine.replyReceived(F.reply(220))
                _ = machine.replyReceived(F.ehlo(["STARTTLS"]))
                return machine
            },
            Point(name: "STARTTLS handshake", phase: .tls, timer: .tlsHandshake, inTransaction: false, afterDot: false) {
                var machine = F.machine(.startTLS)
                _ = machine.channelActive()
                _ = machine.replyReceived(F.reply(220))
                _ = machine.replyReceived(F.ehlo(["STARTTLS"]))
                _ = machine.replyReceived(F.reply(220))
                return machine
            },
            Point(name: "AUTH", phase: .auth, timer: .auth, inTransaction: false, afterDot: false) {
                var machine = F.machine(.implicitTLS, credentials: F.credentials)
                _ = machine.channelActive()
                _ = machine.tlsHandshakeCompleted()
                _ = machine.replyReceived(F.reply(220))
                _ = machine.replyReceived(F.ehlo(["AUTH PLAIN"]))
                return machine
            },
            Point(name: "MAIL", phase: .mail, timer: .mail, inTransaction: true, afterDot: false) {
                var machine = F.ready([])
                _ = machine.sendRequested(F.request())
                return machine
            },
            Point(name: "RCPT", phase: .rcpt, timer: .rcpt, inTransaction: true, afterDot: false) {
                var machine = F.ready([])
                _ = machine.sendRequested(F.request())
                _ = machine.replyReceived(F.reply(250))
                return machine
            },
            Point(name: "DATA", phase: .data, timer: .dataInitiation, inTransaction: true, afterDot: false) {
                var machine = F.ready([])
                _ = machine.sendRequested(F.request(["a@example.com"]))
                _ = machine.replyReceived(F.reply(250))
                _ = machine.replyReceived(F.reply(250))
                return machine
            },
            Point(name: "message data", phase: .data, timer: .dataBlock, inTransaction: true, afterDot: false) {
                F.streaming()
            },
            Point(name: "after the final dot", phase: .data, timer: .dataTermination, inTransaction: true, afterDot: true) {
                F.awaitingFinalReply()
            },
            Point(name: "RSET", phase: .reset, timer: .reset, inTransaction: false, afterDot: false) {
                var machine = F.ready()
                _ = machine.resetRequested()
                return machine
            },
        ]
    }

    @Test(arguments: Point.all)
    func serviceClosing421IsRetryableConnectionFailedAndUnusable(point: Point) {
        var machine = point.drive()
        let action = machine.replyReceived(F.reply(421, "4.7.0 Too many connections, closing"))
        #expect(action.isClose)
        let error: SidecarError?
        switch action.closeCompletion {
        case .connectFailed(let failure)?:
            #expect(failure.phase == point.phase)
            error = failure.error
        case .transaction(.notSent(let failure))?:
            #expect(failure.phase == point.phase)
            error = failure.error
        case .reset(let failure?)?:
            error = failure.error
        default:
            Issue.record("unexpected \(action)")
            error = nil
        }
        if point.name == "STARTTLS handshake" {
            // Any reply before the handshake is a plaintext injection, 421 included.
            #expect(error?.code == .starttlsUnavailable)
        } else if point.name == "implicit TLS handshake" {
            // Nothing can be read before TLS is up: bytes there are not SMTP.
            #expect(error?.code == .protocolViolation)
        } else {
            #expect(error?.code == .connectionFailed)
            #expect(error?.retryable == true)
            #expect(error?.smtp?.code == 421)
        }
        #expect(!machine.isUsable)
    }

    @Test(arguments: Point.all)
    func everyPhaseTimesOut(point: Point) {
        var machine = point.drive()
        let timer = machine.timer(point.timer)
        let action = machine.timerFired()
        #expect(action.isClose)
        #expect(!machine.isUsable)
        switch action.closeCompletion {
        case .connectFailed(let failure)?:
            #expect(!point.inTransaction)
            #expect(failure.error.code == .timeout)
            #expect(failure.error.retryable)
            #expect(failure.phase == point.phase)
            #expect(failure.error.message.contains(timer.awaiting))
        case .transaction(.notSent(let failure))?:
            #expect(point.inTransaction && !point.afterDot)
            #expect(failure.error.code == .timeout)
            #expect(failure.phase == point.phase)
        case .transaction(.mayHaveBeenSent(let failure))?:
            #expect(point.afterDot)
            #expect(failure.error.code == .outcomeUnknown)
            #expect(failure.error.message.contains("9 seconds"), "names the data-termination timeout")
        case .reset(let failure?)?:
            #expect(failure.error.code == .timeout)
        default:
            Issue.record("unexpected \(action)")
        }
        #expect(machine.timerFired() == .none, "a timer fires once")
    }

    @Test(arguments: Point.all)
    func theArmedTimerHasThePhasesConfiguredDuration(point: Point) {
        let machine = point.drive()
        let expected: Duration = switch point.timer {
        case .tlsHandshake: .seconds(2)
        case .greeting: .seconds(3)
        case .ehlo, .startTLS, .auth, .reset, .quit: .seconds(4)
        case .mail: .seconds(5)
        case .rcpt: .seconds(6)
        case .dataInitiation: .seconds(7)
        case .dataBlock: .seconds(8)
        case .dataTermination: .seconds(9)
        }
        #expect(machine.timer(point.timer).duration == expected)
        #expect(machine.timer(point.timer).phase == point.phase)
    }

    @Test(arguments: Point.all)
    func theOverallDeadlineEndsEveryPhase(point: Point) {
        var machine = point.drive()
        let action = machine.deadlineExceeded()
        #expect(action.isClose)
        if point.afterDot {
            guard case .transaction(.mayHaveBeenSent)? = action.closeCompletion else {
                Issue.record("expected mayHaveBeenSent, got \(action)")
                return
            }
        } else {
            // The request's deadline is `request_timeout` with the phase, not the server's `timeout`.
            switch action.closeCompletion {
            case .transaction(.notSent(let failure))?: #expect(failure.error.code == .requestTimeout)
            case .connectFailed(let failure)?: #expect(failure.error.code == .requestTimeout)
            case .reset(let failure?)?: #expect(failure.error.code == .requestTimeout)
            default: Issue.record("unexpected \(action)")
            }
        }
    }

    @Test(arguments: Point.all)
    func losingTheConnectionEndsEveryPhase(point: Point) {
        var machine = point.drive()
        let action = machine.connectionClosed()
        #expect(action.isClose)
        switch action.closeCompletion {
        case .transaction(.mayHaveBeenSent)?: #expect(point.afterDot)
        case .transaction(.notSent(let failure))?: #expect(!point.afterDot && failure.error.code == .connectionFailed)
        case .connectFailed(let failure)?: #expect(failure.error.code == .connectionFailed)
        case .reset(let failure?)?: #expect(failure.error.code == .connectionFailed)
        default: Issue.record("unexpected \(action)")
        }
        #expect(machine.connectionClosed() == .none)
    }

    @Test func quitTimeoutJustCloses() {
        var machine = F.ready()
        _ = machine.quitRequested()
        #expect(machine.timerFired() == .close(.quit, sendQuit: false))
    }

    @Test func aTimerInTheIdleStateDoesNothing() {
        var machine = F.ready()
        #expect(machine.timerFired() == .none)
        #expect(machine.deadlineExceeded() == .none)
        #expect(machine.isUsable)
    }

    @Test func a421AfterTheFinalDotIsADefiniteRefusalNotAnUnknownOutcome() {
        var machine = F.awaitingFinalReply()
        guard case .transaction(.notSent(let failure))? = machine.replyReceived(F.reply(421, "4.3.0 shutting down")).closeCompletion else {
            Issue.record("expected notSent")
            return
        }
        #expect(failure.error.code == .connectionFailed)
    }

    @Test(arguments: [(nil, 465, SMTPSecurityMode.implicitTLS), (nil, 587, .startTLS), (nil, 2525, .startTLS), (nil, 25, .startTLS),
                      (SMTPSecurityMode.plaintext, 465, .plaintext), (.implicitTLS, 587, .implicitTLS)])
    func securityModeDefaultsFromThePort(given: SMTPSecurityMode?, port: Int, expected: SMTPSecurityMode) {
        #expect(SMTPSecurityMode.resolved(given, port: port) == expected)
    }
}
