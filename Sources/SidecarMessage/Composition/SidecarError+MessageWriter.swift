import SidecarCore

extension SidecarError {
    /// A ``CompositionError`` found while writing a ``ComposedMessage`` (a streamed
    /// attachment over its limit or unlike its announced size, a message over its limit).
    /// These reach the SMTP layer through `write(to:)`'s untyped throws, and the SMTP layer
    /// passes a `SidecarError` through as the send's error, so they are made one here, the
    /// field named by its path in `send`'s params. The composer's own refusals are not:
    /// the mail engine maps those.
    init(writing error: CompositionError) {
        self.init(
            code: error.code, message: error.message, retryable: error.retryable,
            field: error.field.map { "params.\($0)" })
    }
}
