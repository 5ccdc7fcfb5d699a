/// One decoded request: `{"id": ..., "op": "...", "params": {...}}`.
public struct Request: Sendable, Equatable {
    public var id: RequestID
    public var operation: Operation

    public init(id: RequestID, operation: Operation) {
        self.id = id
        self.operation = operation
    }
}
