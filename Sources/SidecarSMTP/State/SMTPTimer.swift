/// A timer the state machine asks the shell to arm: at most one is armed at a time, and
/// arming one replaces the previous. When it fires the shell calls
/// ``SMTPClientStateMachine/timerFired()``.
struct SMTPTimer: Sendable, Hashable {
    var phase: SMTPPhase
    var duration: Duration
    /// What is being waited for, for the error message ("reply to MAIL FROM").
    var awaiting: String
}
