import NIOCore
import NIOPosix
import Synchronization

/// A scripted SMTP server on 127.0.0.1 (plaintext, no AUTH) for faults a real server does
/// not produce on demand: a per-session error limit as small as chasquid's, a RSET that
/// never gets an answer, a drop in the middle of a message. Postfix stays the real peer
/// for everything else.
///
/// Recipients whose address contains ``Script/refusedMarker`` are refused with 550; every
/// other command is accepted. It understands PIPELINING (it answers in order), DATA and
/// BDAT.
public final class ScriptedSMTPServer: Sendable {
    public struct Script: Sendable {
        public var greeting = "scripted.test ESMTP scripted"
        public var extensions = ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE 50000000"]
        public var refusedMarker = "unknown"
        /// chasquid: after this many error replies in one session, `421 4.5.0 Too many
        /// errors, bye` and close. nil: no limit.
        public var errorLimit: Int?
        /// Never answer RSET.
        public var stallOnRSET = false
        /// Close the connection once this many bytes of message data have arrived.
        public var dropAfterMessageBytes: Int?
        /// Hold the replies to MAIL, RCPT and BDAT until the message has arrived (a server
        /// that reads the whole pipelined flight before it answers).
        public var holdTransactionReplies = false

        public init() {}
    }

    /// A message the server took.
    public struct Delivery: Sendable, Hashable {
        public var connection: Int
        public var from: String
        public var recipients: [String]
        public var bytes: Int
    }

    struct Log: Sendable {
        var connections = 0
        var commands: [(connection: Int, line: String)] = []
        var deliveries: [Delivery] = []
        var children: [any Channel] = []
    }

    public let port: Int
    let channel: any Channel
    let box: LogBox

    private init(port: Int, channel: any Channel, box: LogBox) {
        self.port = port
        self.channel = channel
        self.box = box
    }

    /// Sessions accepted so far.
    public var connections: Int { box.log.withLock { $0.connections } }
    /// Messages taken so far.
    public var deliveries: [Delivery] { box.log.withLock { $0.deliveries } }
    /// Every command line received, with the session (1-based) it came on.
    public var commands: [(connection: Int, line: String)] { box.log.withLock { $0.commands } }

    public static func start(_ script: Script) async throws -> ScriptedSMTPServer {
        let box = LogBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let number = box.log.withLock {
                        $0.connections += 1
                        $0.children.append(child)
                        return $0.connections
                    }
                    try child.pipeline.syncOperations.addHandler(Session(script: script, number: number, log: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedSMTPServer(port: channel.localAddress?.port ?? 0, channel: channel, box: box)
    }

    public func stop() async {
        try? await channel.close()
        for child in box.log.withLock({ $0.children }) { try? await child.close() }
    }

    /// The server's log, shared with its sessions.
    final class LogBox: Sendable {
        let log = Mutex(Log())
    }
}

extension ScriptedSMTPServer {
    /// One SMTP session.
    final class Session: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        enum Mode {
            case command
            case data
            case bdat(remaining: Int, last: Bool)
        }

        let script: Script
        let number: Int
        let box: LogBox
        var buffer = ByteBuffer()
        var mode = Mode.command
        var errors = 0
        var from: String?
        var recipients: [String] = []
        var messageBytes = 0
        var held: [String] = []
        var closed = false

        init(script: Script, number: Int, log: LogBox) {
            self.script = script
            self.number = number
            self.box = log
        }

        func channelActive(context: ChannelHandlerContext) {
            send("220 \(script.greeting)", context: context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            buffer.writeBuffer(&incoming)
            process(context: context)
            buffer.discardReadBytes()
        }

        private func process(context: ChannelHandlerContext) {
            while !closed {
                switch mode {
                case .command:
                    guard let line = readLine() else { return }
                    box.log.withLock { $0.commands.append((number, line)) }
                    command(line, context: context)
                case .data:
                    guard let line = readLine() else { return }
                    if line == "." {
                        mode = .command
                        deliver(context: context)
                    } else {
                        received(line.utf8.count + 2, context: context)
                    }
                case .bdat(let remaining, let last):
                    let count = min(remaining, buffer.readableBytes)
                    guard count > 0 || remaining == 0 else { return }
                    buffer.moveReaderIndex(forwardBy: count)
                    mode = .bdat(remaining: remaining - count, last: last)
                    received(count, context: context)
                    if closed { return }
                    if remaining - count == 0 {
                        mode = .command
                        if last {
                            deliver(context: context)
                        } else {
                            send("250 2.0.0 chunk ok", context: context)
                        }
                    }
                }
            }
        }

        private func readLine() -> String? {
            guard let view = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let length = view - buffer.readerIndex + 1
            var line = buffer.readString(length: length) ?? ""
            // "\r\n" is one Character, which hasSuffix("\n") does not match.
            while line.last?.isNewline == true { line.removeLast() }
            return line
        }

        private func received(_ count: Int, context: ChannelHandlerContext) {
            messageBytes += count
            if let limit = script.dropAfterMessageBytes, messageBytes >= limit {
                closed = true
                context.close(promise: nil)
            }
        }

        private func command(_ line: String, context: ChannelHandlerContext) {
            let upper = line.uppercased()
            if upper.hasPrefix("EHLO") {
                let lines = ["scripted.test Hello"] + script.extensions
                let text = lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)" }
                send(text.joined(separator: "\r\n"), context: context)
            } else if upper.hasPrefix("HELO") || upper.hasPrefix("NOOP") {
                send("250 2.0.0 Ok", context: context)
            } else if upper.hasPrefix("MAIL FROM:") {
                from = Self.address(line)
                recipients = []
                messageBytes = 0
                transactionReply("250 2.1.0 Ok", context: context)
            } else if upper.hasPrefix("RCPT TO:") {
                let address = Self.address(line)
                if address.contains(script.refusedMarker) {
                    error("550 5.1.1 <\(address)>: Recipient address rejected: User unknown", context: context)
                } else {
                    recipients.append(address)
                    transactionReply("250 2.1.5 Ok", context: context)
                }
            } else if upper.hasPrefix("DATA") {
                if recipients.isEmpty {
                    error("554 5.5.1 Error: no valid recipients", context: context)
                } else {
                    flushHeld(context: context)
                    send("354 End data with <CR><LF>.<CR><LF>", context: context)
                    mode = .data
                }
            } else if upper.hasPrefix("BDAT") {
                let words = line.split(separator: " ")
                let size = words.count > 1 ? Int(words[1]) ?? 0 : 0
                mode = .bdat(remaining: size, last: words.count > 2 && words[2].uppercased() == "LAST")
            } else if upper.hasPrefix("RSET") {
                if script.stallOnRSET { return }
                from = nil
                recipients = []
                send("250 2.0.0 Ok", context: context)
            } else if upper.hasPrefix("QUIT") {
                send("221 2.0.0 Bye", context: context)
                closed = true
                context.close(promise: nil)
            } else {
                error("502 5.5.2 Error: command not recognized", context: context)
            }
        }

        private func deliver(context: ChannelHandlerContext) {
            flushHeld(context: context)
            guard let from, !recipients.isEmpty else {
                error("554 5.5.1 Error: no valid recipients", context: context)
                return
            }
            let delivery = Delivery(connection: number, from: from, recipients: recipients, bytes: messageBytes)
            let count = box.log.withLock {
                $0.deliveries.append(delivery)
                return $0.deliveries.count
            }
            self.from = nil
            recipients = []
            send("250 2.0.0 Ok: queued as S\(count)", context: context)
        }

        private func transactionReply(_ text: String, context: ChannelHandlerContext) {
            if script.holdTransactionReplies {
                held.append(text)
            } else {
                send(text, context: context)
            }
        }

        private func flushHeld(context: ChannelHandlerContext) {
            for text in held { send(text, context: context) }
            held = []
        }

        /// An error reply; at the session's error limit, chasquid's 421 and the end.
        private func error(_ text: String, context: ChannelHandlerContext) {
            transactionReply(text, context: context)
            errors += 1
            if let limit = script.errorLimit, errors >= limit {
                flushHeld(context: context)
                send("421 4.5.0 Too many errors, bye", context: context)
                closed = true
                context.close(promise: nil)
            }
        }

        private func send(_ text: String, context: ChannelHandlerContext) {
            guard context.channel.isActive else { return }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
        }

        static func address(_ line: String) -> String {
            guard let open = line.firstIndex(of: "<"), let close = line[open...].firstIndex(of: ">") else { return "" }
            return String(line[line.index(after: open)..<close])
        }
    }
}
