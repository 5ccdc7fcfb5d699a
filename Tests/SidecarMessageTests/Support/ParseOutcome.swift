/// What a parser answered, as comparable text: the value as `describe` writes it, or
/// "error: " and the error's reason. Differential tests compare a shortcut with the
/// general parser through it.
func parseOutcome<Value, Failure: Error>(
    _ parse: () throws(Failure) -> Value, describe: (Value) -> String, reason: (Failure) -> String
) -> String {
    do {
        return describe(try parse())
    } catch {
        return "error: " + reason(error)
    }
}
