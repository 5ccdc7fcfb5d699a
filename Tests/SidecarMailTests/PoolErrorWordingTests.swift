import SidecarCore
import SidecarPool
import Testing

@testable import SidecarMail

/// The pool's refusals become wire errors in one place, the mail engine.
@Suite struct PoolErrorWordingTests {
    @Test(arguments: [
        (ConnectionPoolError.Code.busy, ErrorCode.poolBusy, true),
        (.connectionNotReady, .timeout, true),
        (.deadlineExceeded, .requestTimeout, true),
        (.shuttingDown, .shuttingDown, true),
        (.missingContext, .internalError, false),
    ])
    func eachRefusalHasItsCode(refusal: ConnectionPoolError.Code, code: ErrorCode, retryable: Bool) {
        let error = SidecarError(ConnectionPoolError(refusal))
        #expect(error.code == code)
        #expect(error.retryable == retryable)
        #expect(!error.message.isEmpty && !error.message.contains("ConnectionPoolError"))
    }
}
