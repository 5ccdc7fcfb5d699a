import NIOCore
import Testing

@testable import SidecarEgress

/// A resolved socket address becomes the same number as its printed literal parses to:
/// the guard checks what the connection will use, byte for byte.
@Suite struct IPAddressSocketAddressTests {
    @Test(arguments: [
        "0.0.0.0", "127.0.0.1", "10.1.2.3", "169.254.169.254", "192.0.2.255", "255.255.255.255", "8.8.4.4",
        "::", "::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
        "2001:db8::ff00:42:8329", "2001:4860:4860::8888", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ])
    func matchesTheParsedLiteral(literal: String) throws {
        let socketAddress = try SocketAddress(ipAddress: literal, port: 587)
        let fromSocket = try #require(IPAddress(socketAddress))
        #expect(fromSocket == IPAddress(literal))
        #expect(fromSocket.description == socketAddress.ipAddress)
    }

    @Test func aUnixSocketHasNoIPAddress() throws {
        #expect(IPAddress(try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")) == nil)
    }
}
