import SidecarCore
import Testing

@testable import SidecarMail

/// How a failure of the state store (dedup records, rate counters) is answered.
@Suite struct StateErrorTests {
    @Test func aCancelledRequestIsAShutdownNotADatabaseFailure() {
        let error = MailOperations.stateError(CancellationError())
        #expect(error.code == .shuttingDown)
        #expect(error.retryable)
    }

    @Test func aSidecarErrorPassesThroughAndAnythingElseIsInternal() {
        let given = SidecarError(code: .rateLimited, message: "slow down", retryable: true)
        #expect(MailOperations.stateError(given) == given)
        struct Odd: Error {}
        #expect(MailOperations.stateError(Odd()).code == .internalError)
    }
}
