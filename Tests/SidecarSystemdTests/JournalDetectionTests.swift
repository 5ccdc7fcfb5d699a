import SidecarSystemd
import SidecarTestSupport
import Testing

@Suite struct JournalDetectionTests {
    static let stderrIdentity = JournalDetection.FileIdentity(device: 64769, inode: 123_456)

    static func facts(socket: Bool, stream: String?, terminal: Bool) -> JournalDetection {
        JournalDetection(
            journalSocketExists: socket,
            journalStream: stream,
            standardError: stderrIdentity,
            standardErrorIsTerminal: terminal
        )
    }

    @Test(arguments: [
        // No journal: stderr, whatever else holds.
        (false, "64769:123456" as String?, false, SidecarLogging.Destination.stderr),
        (false, nil, false, .stderr),
        // Started by systemd with stderr on the journal stream.
        (true, "64769:123456", false, .journald),
        // JOURNAL_STREAM inherited from a parent, stderr is elsewhere (a terminal).
        (true, "64769:999", true, .stderr),
        (true, "garbage", true, .stderr),
        // By hand on a terminal.
        (true, nil, true, .stderr),
        // Redirected, on a host with a journal.
        (true, nil, false, .journald),
    ])
    func auto(socket: Bool, stream: String?, terminal: Bool, expected: SidecarLogging.Destination) {
        #expect(Self.facts(socket: socket, stream: stream, terminal: terminal).resolve(.auto) == expected)
    }

    @Test func explicitTargetsAreObeyed() {
        let noJournal = Self.facts(socket: false, stream: nil, terminal: true)
        #expect(noJournal.resolve(.journald) == .journald)
        #expect(noJournal.resolve(.stderr) == .stderr)
        let journal = Self.facts(socket: true, stream: "64769:123456", terminal: false)
        #expect(journal.resolve(.stderr) == .stderr)
    }

    @Test(arguments: [("64769:123456", true), ("64769:123457", false), ("1:123456", false), (":", false),
                      ("64769:123456:1", false), ("", false)])
    func journalStreamMustMatchStandardError(stream: String, matches: Bool) {
        #expect(Self.facts(socket: true, stream: stream, terminal: false).standardErrorIsJournal == matches)
    }

    @Test func theFactoryPicksTheHandlerForTheDestination() {
        let journal = Self.facts(socket: true, stream: nil, terminal: false)
        let terminal = Self.facts(socket: true, stream: nil, terminal: true)
        #expect(SidecarLogging.makeHandler(label: "l", target: .auto, detection: journal) is JournaldLogHandler)
        #expect(SidecarLogging.makeHandler(label: "l", target: .auto, detection: terminal) is LogfmtLogHandler)
        #expect(SidecarLogging.makeHandler(label: "l", target: .stderr, detection: journal) is LogfmtLogHandler)
        #expect(SidecarLogging.makeHandler(label: "l", target: .journald, detection: terminal) is JournaldLogHandler)
    }

    @Test func targetsParseFromTheConfigurationSpelling() {
        #expect(SidecarLogging.Target(rawValue: "auto") == .auto)
        #expect(SidecarLogging.Target(rawValue: "journald") == .journald)
        #expect(SidecarLogging.Target(rawValue: "stderr") == .stderr)
        #expect(SidecarLogging.Target(rawValue: "syslog") == nil)
    }
}
