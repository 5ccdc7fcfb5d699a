// sidecar-bench: drives a running smtp-sidecar through its socket with concurrent
// clients and prints one result line: messages/s, latency percentiles, and (given the
// daemon's pid) the daemon's CPU time per message and peak RSS.
//
//   sidecar-bench --socket PATH --request FILE [--clients N] [--messages M] [--warmup W]
//                 [--size BYTES] [--daemon-pid PID] [--label TEXT] [--dedup-window SECONDS|default]
//                 [--ping-probe] [--attachment-bytes BYTES] [--duration SECONDS]
//
// FILE holds `send` params (JSON, as in proto-spec/); each message gets a unique
// idempotency key and, with --size, a text body of that many bytes. Duplicate
// suppression is off (a window of 0) unless --dedup-window sets one; `default` leaves it
// to the daemon, as a caller that does not mention it does (one hour, a record per send).
// --ping-probe: one more client pings every 5 ms while the sends run, and the line ends
// with the pings' latency (what other clients wait while these sends are in progress,
// e.g. during one 8 MB message). --attachment-bytes adds a binary attachment of that size
// (content_base64 in the request, base64 again in the message). --duration spreads each
// client's messages evenly over that many seconds instead of sending as fast as answers
// come (a workload over time, e.g. across several OAuth token lifetimes).
import Foundation
import SidecarClient
import SidecarCore
import SidecarProtocol
import Synchronization

struct Options {
    var socket = "/run/smtp-sidecar/smtp-sidecar.sock"
    var request = ""
    var clients = 1
    var messages = 200
    var warmup = 10
    var size = 2048
    var daemonPID: Int32?
    var label = "run"
    /// The `dedup_window_seconds` sent; nil omits it.
    var dedupWindow: Int? = 0
    var pingProbe = false
    var attachmentBytes = 0
    /// Spread the messages over this long; nil: as fast as possible.
    var duration: Double?

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            if flag == "--ping-probe" {
                pingProbe = true
                continue
            }
            let value = iterator.next() ?? ""
            switch flag {
            case "--socket": socket = value
            case "--request": request = value
            case "--clients": clients = Int(value) ?? clients
            case "--messages": messages = Int(value) ?? messages
            case "--warmup": warmup = Int(value) ?? warmup
            case "--size": size = Int(value) ?? size
            case "--daemon-pid": daemonPID = Int32(value)
            case "--label": label = value
            case "--attachment-bytes": attachmentBytes = Int(value) ?? 0
            case "--duration": duration = Double(value)
            case "--dedup-window": dedupWindow = value == "default" ? nil : (Int(value) ?? 0)
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(2)
            }
        }
    }
}

/// CPU time (user + system) and peak RSS of a process, from /proc.
struct ProcessUsage {
    var cpuSeconds: Double
    var peakRSSBytes: Int

    static func read(pid: Int32) -> ProcessUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let user = Double(fields[11]) ?? 0
        let system = Double(fields[12]) ?? 0
        let hwm = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        let kilobytes = hwm.flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) } ?? 0
        return ProcessUsage(cpuSeconds: (user + system) / ticks, peakRSSBytes: kilobytes * 1024)
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[rank]
}

@main
enum SidecarBench {
    static func main() async {
        await run(Options(CommandLine.arguments))
    }

    static func run(_ options: Options) async {
        guard let data = FileManager.default.contents(atPath: options.request),
            var template = try? JSONDecoder().decode(SendParams.self, from: data)
        else {
            FileHandle.standardError.write(Data("cannot read send params from --request \(options.request)\n".utf8))
            exit(2)
        }
        template.text = String(repeating: "The quick brown fox jumps over the lazy dog.\n", count: max(1, options.size / 45))
        template.dedupWindowSeconds = options.dedupWindow
        if options.attachmentBytes > 0 {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<options.attachmentBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
            template.attachments = [
                AttachmentParams(
                    filename: "bench.bin", contentType: "application/octet-stream",
                    contentBase64: Data(bytes).base64EncodedString())
            ]
        }

        let request = template
        let clock = ContinuousClock()
        let total = options.messages
        let perClient = (total + options.clients - 1) / options.clients
        let before = options.daemonPID.flatMap(ProcessUsage.read)
        var failures = 0
        var latencies: [Double] = []
        let probe = options.pingProbe ? PingProbe(socket: options.socket) : nil
        let probeTask = probe.map { probe in Task { await probe.run() } }
        let started = clock.now
        do {
            let results = try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
                for client in 0..<options.clients {
                    group.addTask {
                        try await SidecarConnection.withConnection(socketPath: options.socket) { sidecar in
                            var local: [Double] = []
                            var failed = 0
                            let interval = options.duration.map { Duration.seconds($0 / Double(max(1, perClient))) }
                            for index in 0..<(perClient + options.warmup) {
                                if let interval, index >= options.warmup {
                                    try await Task.sleep(until: started + interval * (index - options.warmup), clock: clock)
                                }
                                var params = request
                                params.context = .init(idempotencyKey: "bench-\(client)-\(index)-\(UUID().uuidString)")
                                let sent = clock.now
                                let response = try await sidecar.callRaw("send", params: params)
                                let elapsed = clock.now - sent
                                if index < options.warmup { continue }
                                if response.ok {
                                    local.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                                } else {
                                    failed += 1
                                    if failed == 1 {
                                        FileHandle.standardError.write(Data("send failed: \(response.error.map { "\($0)" } ?? "?")\n".utf8))
                                    }
                                }
                            }
                            return (local, failed)
                        }
                    }
                }
                var all: [([Double], Int)] = []
                for try await result in group { all.append(result) }
                return all
            }
            for (local, failed) in results {
                latencies += local
                failures += failed
            }
        } catch {
            FileHandle.standardError.write(Data("benchmark failed: \(error)\n".utf8))
            exit(1)
        }
        // The warm-up messages are inside the wall time; subtract their share approximately by
        // measuring throughput over the measured messages only.
        let wall = clock.now - started
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let sent = latencies.count
        let measuredShare = Double(sent) / Double(sent + options.warmup * options.clients)
        let rate = Double(sent) / (wallSeconds * measuredShare)
        latencies.sort()
        var line = String(
            format: "%-34@ %6d msgs %8.1f msg/s  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  failures %d",
            options.label as NSString, sent, rate, percentile(latencies, 50), percentile(latencies, 90),
            percentile(latencies, 99), failures)
        if let pid = options.daemonPID, let before, let after = ProcessUsage.read(pid: pid) {
            let cpuPerMessage = (after.cpuSeconds - before.cpuSeconds) / Double(max(1, sent + options.warmup * options.clients))
            line += String(format: "  cpu/msg %.3f ms  peak RSS %.1f MB", cpuPerMessage * 1000, Double(after.peakRSSBytes) / 1_048_576)
        }
        if let probe, let probeTask {
            probe.stop()
            let pings = await probeTask.value.sorted()
            line += String(
                format: "  ping p50 %.2f ms  p99 %.2f ms  max %.2f ms (%d)", percentile(pings, 50), percentile(pings, 99),
                pings.last ?? .nan, pings.count)
        }
        print(line)
    }
}

/// Pings the daemon every 5 ms on a connection of its own until stopped; the latencies in ms.
final class PingProbe: Sendable {
    let socket: String
    private let stopped = Mutex(false)

    init(socket: String) {
        self.socket = socket
    }

    func stop() {
        stopped.withLock { $0 = true }
    }

    func run() async -> [Double] {
        let clock = ContinuousClock()
        var latencies: [Double] = []
        do {
            try await SidecarConnection.withConnection(socketPath: socket) { sidecar in
                while !stopped.withLock({ $0 }) {
                    let sent = clock.now
                    _ = try await sidecar.callRaw("ping", params: PingParams())
                    let elapsed = clock.now - sent
                    latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
        } catch {
            FileHandle.standardError.write(Data("ping probe failed: \(error)\n".utf8))
        }
        return latencies
    }
}
