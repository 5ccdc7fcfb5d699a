import Synchronization

/// A value a test's callback sets and the test reads after.
final class Observed<Value: Sendable>: Sendable {
    private let box = Mutex<Value?>(nil)
    var value: Value? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }
}
