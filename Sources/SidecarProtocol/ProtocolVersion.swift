/// Protocol versions this build speaks, and the choice of one in `hello`.
public enum ProtocolVersion {
    public static let current = 1
    public static let supported: [Int] = [1]

    /// The highest version both sides speak, or nil.
    public static func negotiate(clientVersions: [Int]?) -> Int? {
        let offered = clientVersions ?? [1]
        return offered.filter(supported.contains).max()
    }
}
