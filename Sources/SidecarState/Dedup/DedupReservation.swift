/// A key this process's send reserved (its `begin` said proceed), until the send ends.
struct DedupReservation: Sendable, Hashable {
    /// The ticket's token.
    var token: String
    /// When the send began, in ms since the epoch.
    var createdMs: Int64
    /// Whether its `pending` record was written.
    var isPending = false
}
