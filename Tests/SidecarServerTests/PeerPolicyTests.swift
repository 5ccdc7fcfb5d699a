import SidecarCore
import SidecarServer
import Testing

@Suite struct PeerPolicyTests {
    @Test func peerPolicyResolvesNamesAndNumbers() throws {
        let policy = try PeerPolicy.resolve(uids: ["root", "1234"], gids: ["0"])
        #expect(policy.allowedUIDs == [0, 1234])
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 1234, gid: 99)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 99, gid: 0)))
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: 99, gid: 99)))
        #expect(!policy.allows(nil))
        #expect(PeerPolicy().allows(nil))
        #expect(throws: SidecarError.self) { try PeerPolicy.resolve(uids: ["no-such-user-here"], gids: []) }
    }
}
