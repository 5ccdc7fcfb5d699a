extension MailEngineTask {
    /// The connection pools: on graceful shutdown they stop lending, let sends in flight
    /// finish, and QUIT their idle connections.
    static func pools(_ transport: PooledTransport) -> MailEngineTask {
        MailEngineTask(run: { await transport.run() }, shutdown: .call({ transport.shutdown() }))
    }
}
