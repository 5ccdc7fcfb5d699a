import SidecarClient

extension JSONValue {
    /// `error.code` of a response.
    public var errorCode: String? { self["error"]?["code"]?.string }

    /// Whether every member of `expected` is present here with an equal value (recursively
    /// for objects); `null` in `expected` means absent or null.
    public func contains(_ expected: JSONValue) -> Bool {
        switch (self, expected) {
        case (.object(let actual), .object(let wanted)):
            return wanted.allSatisfy { key, value in
                if value == .null { return actual[key] == nil || actual[key] == .null }
                return actual[key]?.contains(value) ?? false
            }
        default:
            return self == expected
        }
    }
}
