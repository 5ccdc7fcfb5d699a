import SidecarMessage
import SidecarProtocol

extension HeaderList.Field {
    /// A header given as `Name:Value` (`send --header`): the name as written, the value
    /// without the spaces and tabs around it (as the composer trims addresses and file
    /// names). nil when there is no colon.
    public init?(nameColonValue entry: String) {
        guard let colon = entry.firstIndex(of: ":") else { return nil }
        self.init(name: String(entry[..<colon]), value: String(entry[entry.index(after: colon)...]).trimmingWhitespace())
    }
}
