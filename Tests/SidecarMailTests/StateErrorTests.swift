import SidecarCore
import SidecarState
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

/// The state store's errors as the wire sees them: the codes, messages, fields and retry
/// hints the store used to mint itself.
@Suite struct StateErrorWordingTests {
    @Test func aRateLimitIsRetryableWithItsDelay() {
        let error = SidecarError(rateLimitedFor: .seconds(10), reason: .rate)
        #expect(error.code == .rateLimited)
        #expect(error.retryAfterMs == 10_000)
        #expect(error.retryable)
        #expect(error.message == "This credential is sending faster than its configured rate; retry shortly.")
        let daily = SidecarError(rateLimitedFor: .milliseconds(1), reason: .daily)
        #expect(daily.message == "This credential has used its daily sending quota; retry when it frees up.")
        #expect(daily.retryAfterMs == 1)
        // A delay too long for milliseconds still tells the client to wait.
        #expect(SidecarError(rateLimitedFor: .seconds(Int64(1) << 62), reason: .rate).retryAfterMs ?? 0 > 0)
    }

    @Test func aDatabaseFailureIsInternalAndRetryableOnlyWhenBusy() {
        let failed = SidecarError(SQLiteError(code: 19, context: "CHECK constraint failed: sends >= 0"))
        #expect(failed == SidecarError(
            code: .internalError,
            message: "The sidecar's state database failed (SQLite error 19: CHECK constraint failed: sends >= 0)."))
        let busy = SidecarError(SQLiteError(code: 5, context: "database is locked"))
        #expect(busy.code == .internalError)
        #expect(busy.retryable)
        #expect(SidecarError(state: SQLiteError(code: nil, context: "the database is closed"))?.message
            == "The sidecar's state database failed (SQLite: the database is closed).")
    }

    @Test func theCredentialStoresRefusals() {
        #expect(SidecarError(CredentialStoreError(.duplicateID)) == SidecarError(
            code: .invalidParams, message: "A credential with this id already exists in the workspace.", field: "params.id"))
        #expect(SidecarError(CredentialStoreError(.notFound)) == SidecarError(
            code: .credentialNotFound, message: "No stored credential with this id exists in this workspace."))
        #expect(SidecarError(CredentialStoreError(.sealFailed)).code == .internalError)
        #expect(SidecarError(CredentialStoreError(.openFailed)) == SidecarError(
            code: .internalError,
            message: "The stored credential could not be decrypted: it was altered or moved from another record."))
        #expect(SidecarError(CredentialStoreError(.sealedUnderAnotherKey(stored: "aa", current: "bb"))).message
            == "The stored credential was encrypted under another key (key id aa, current bb).")
    }

    @Test func keyFileProblemsAreConfigurationErrors() {
        let cases: [(CredentialKeyError.Code, String)] = [
            (.wrongLength(byteCount: 16), "The credential key must be 32 bytes (AES-256); got 16."),
            (.unreadable(path: "/k", errno: 2), "The credential key file /k cannot be read (errno 2)."),
            (.unreadable(path: "/k", errno: nil), "The credential key file /k cannot be read."),
            (.accessibleToOthers(path: "/k"),
             "The credential key file /k is accessible to group or others; make it mode 0600 or 0400."),
            (.malformed(source: "/k"), "The credential key in /k must be 32 raw bytes or 64 hex digits."),
            (.noCredentialsDirectory(name: "smtp-sidecar.key"),
             "CREDENTIALS_DIRECTORY is not set: load the key with LoadCredentialEncrypted=smtp-sidecar.key:… "
                + "in the unit, or give a key file."),
            (.notCreated(path: "/k", errno: 17),
             "The credential key file /k cannot be created (errno 17); an existing key is never overwritten."),
            (.notWritten(path: "/k"), "The credential key file /k could not be written."),
        ]
        for (code, message) in cases {
            #expect(SidecarError(state: CredentialKeyError(code)) == SidecarError(code: .invalidConfiguration, message: message))
        }
    }

    @Test func anErrorThatIsNotTheStoresIsLeftAlone() {
        struct Other: Error {}
        #expect(SidecarError(state: Other()) == nil)
    }
}
