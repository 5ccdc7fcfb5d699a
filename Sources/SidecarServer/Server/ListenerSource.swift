/// Where the daemon's listening socket comes from.
public enum ListenerSource: Sendable, Equatable {
    /// A listening socket inherited from systemd socket activation.
    case inherited(fileDescriptor: Int32, name: String)
    /// A Unix socket the daemon binds itself at `path`, with this file mode and group.
    case path(String, mode: UInt32, group: String?)
}
