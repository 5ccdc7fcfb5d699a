/// One row of the `dedup` table.
package struct DedupRecord: Sendable, Hashable {
    package enum State: String, Sendable {
        /// A send holds this key but has written nothing to a server yet (it may be waiting
        /// for a connection). If its process dies, nothing was sent: the key is free.
        /// Written by earlier versions only: a reservation now lives in the sending
        /// process's memory (``DedupStore``).
        case reserved
        /// A send holding this key may have started its SMTP transaction: its bytes may have
        /// left (or its process died while they might have).
        case pending
        /// The send finished with a result that counts as sent; `resultJSON` holds it.
        case done
    }

    package var key: String
    package var state: State
    package var resultJSON: String?
    package var createdMs: Int64
    package var expiresMs: Int64
    /// ``ProcessIdentity/owner`` of the process that began the send.
    package var owner: String
    /// Random per `begin`; only the holder of the matching ``DedupTicket`` may complete it.
    package var token: String

    package init(
        key: String, state: State, resultJSON: String?, createdMs: Int64, expiresMs: Int64, owner: String, token: String
    ) {
        self.key = key
        self.state = state
        self.resultJSON = resultJSON
        self.createdMs = createdMs
        self.expiresMs = expiresMs
        self.owner = owner
        self.token = token
    }
}
