import NIOCore
import SidecarCore
import SidecarEgress
import SidecarMail
import SidecarPool
import Testing

/// The mail engine's part of the key table: its keys fill in the pool's and the fetcher's
/// configurations, and a key that is not its own is left to the caller.
@Suite struct MailConfigurationKeysTests {
    @Test func itsKeysFillInThePoolsAndTheFetchersConfigurations() throws {
        var configuration = MailConfiguration()
        #expect(try configuration.apply(key: "pool_max_connections", value: "7", source: "test.conf:1"))
        #expect(try configuration.apply(key: "pool_check_after_idle_seconds", value: "3", source: "test.conf:2"))
        #expect(try configuration.apply(key: "attachment_timeout_seconds", value: "9", source: "test.conf:3"))
        #expect(try configuration.apply(key: "pool_max_connections_per_server", value: "", source: "test.conf:4"))
        #expect(configuration.pool.maxConnectionsTotal == 7)
        #expect(configuration.pool.checkAfterIdle == .seconds(3))
        #expect(configuration.attachments.idleReadTimeout == .seconds(9))
        #expect(configuration.poolMaxConnectionsPerServer == nil)
    }

    @Test func aKeyThatIsNotItsOwnIsLeftUnchanged() throws {
        var configuration = MailConfiguration()
        #expect(try configuration.apply(key: "socket_path", value: "/tmp/x.sock", source: "test.conf:1") == false)
        #expect(configuration == MailConfiguration())
    }

    @Test func aBadValueNamesTheKeyAndWhereItWasSet() {
        var configuration = MailConfiguration()
        #expect {
            _ = try configuration.apply(key: "pool_enabled", value: "maybe", source: "test.conf:4")
        } throws: { error in
            (error as? SidecarError)?.message == "Invalid configuration: test.conf:4: pool_enabled must be true or false."
        }
    }
}
