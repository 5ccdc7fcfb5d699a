/// The pure rule of duplicate suppression: given the record already stored for a key
/// (if any) and the time, what `begin` does. No I/O; ``DedupStore`` runs it inside a
/// transaction and applies the action.
package enum DedupDecision: Sendable, Equatable {
    /// Reserve the key (a stored record, if any, is expired or given up) and let the caller send.
    case proceed
    /// A finished send counts as sent and has not expired: return its result.
    case duplicate(resultJSON: String)
    /// A live send holds the key: wait for it.
    case inProgress
    /// The send holding the key died or went stale before finishing, within the window:
    /// it may have been sent. Report that; do not send.
    case abandoned(createdMs: Int64)

    /// - Parameters:
    ///   - record: the stored record for the key, if any.
    ///   - nowMs: the current time in ms since the epoch.
    ///   - staleAfterMs: how old a `reserved` or `pending` record may be before it is given
    ///     up (free, or abandoned) even if its owner still runs.
    ///   - ownerIsAlive: whether the record's owner process runs (nil: cannot tell).
    package static func decide(record: DedupRecord?, nowMs: Int64, staleAfterMs: Int64, ownerIsAlive: Bool?) -> DedupDecision {
        guard let record else { return .proceed }
        switch record.state {
        case .reserved:
            // Nothing of that send left the process: if its owner is gone (or it sat past the
            // stale limit, longer than any send takes), the key is free.
            let stale = nowMs.saturatingSubtracting(record.createdMs) >= staleAfterMs
            let alive = ownerIsAlive ?? true
            if alive && !stale { return .inProgress }
            return .proceed
        case .done:
            if nowMs >= record.expiresMs { return .proceed }
            return .duplicate(resultJSON: record.resultJSON ?? "null")
        case .pending:
            let stale = nowMs.saturatingSubtracting(record.createdMs) >= staleAfterMs
            // An owner we cannot check is presumed alive until the stale limit.
            let alive = ownerIsAlive ?? true
            if alive && !stale { return .inProgress }
            if nowMs >= record.expiresMs { return .proceed }
            return .abandoned(createdMs: record.createdMs)
        }
    }
}
