#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SidecarCore

/// Which peers may use the daemon: a peer is allowed when its uid is in `allowedUIDs` or
/// its gid is in `allowedGIDs`; with both empty every peer is allowed (the socket file's
/// mode and group are then the only guard). Peers we cannot identify are refused.
public struct PeerPolicy: Sendable, Equatable {
    public var allowedUIDs: Set<UInt32>
    public var allowedGIDs: Set<UInt32>

    public init(allowedUIDs: Set<UInt32> = [], allowedGIDs: Set<UInt32> = []) {
        self.allowedUIDs = allowedUIDs
        self.allowedGIDs = allowedGIDs
    }

    public var allowsEveryone: Bool { allowedUIDs.isEmpty && allowedGIDs.isEmpty }

    public func allows(_ peer: PeerCredentials?) -> Bool {
        if allowsEveryone { return true }
        guard let peer else { return false }
        return allowedUIDs.contains(peer.uid) || allowedGIDs.contains(peer.gid)
    }

    /// Resolves configured user and group names (or numbers) once, at start-up, so an
    /// unknown name is a configuration error rather than a silent refusal of everyone.
    public static func resolve(uids: [String], gids: [String]) throws(SidecarError) -> PeerPolicy {
        var policy = PeerPolicy()
        for entry in uids {
            guard let uid = UInt32(entry) ?? lookUpUser(entry) else {
                throw SidecarError(code: .invalidConfiguration, message: "allowed_uids: no user named \"\(entry)\".")
            }
            policy.allowedUIDs.insert(uid)
        }
        for entry in gids {
            guard let gid = UInt32(entry) ?? lookUpGroup(entry) else {
                throw SidecarError(code: .invalidConfiguration, message: "allowed_gids: no group named \"\(entry)\".")
            }
            policy.allowedGIDs.insert(gid)
        }
        return policy
    }

    static func lookUpUser(_ name: String) -> UInt32? {
        guard let entry = getpwnam(name) else { return nil }
        return entry.pointee.pw_uid
    }

    static func lookUpGroup(_ name: String) -> UInt32? {
        guard let entry = getgrnam(name) else { return nil }
        return entry.pointee.gr_gid
    }
}
