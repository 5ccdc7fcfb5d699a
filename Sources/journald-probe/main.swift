// journald-probe: a tiny program that exercises SidecarSystemd from outside the test
// process, where systemd's environment (a private journald, LISTEN_FDS, NOTIFY_SOCKET)
// can be set up for it. Used by Tests/SidecarSystemdTests; not installed.
//
//   journald-probe log [--target auto|journald|stderr] [--secret-env NAME]
//       Logs one entry per level with known metadata (nested, a key needing sanitizing,
//       a multi-line value, precedence between handler, provider and call metadata) and
//       a Secret, read from the environment variable NAME, as metadata and in the
//       message. (Not from an argument: journald records every process's command line
//       in _CMDLINE, which would put the value in the journal whatever the handler does.)
//       Then one entry with a 300 kB field (too big for a datagram). Prints
//       `destination=...` and one `logged level=... line=...` per entry.
//   journald-probe listen-fds [--serve]
//       Prints the sockets SystemdListenFDs.take() (in SidecarSystemd) found (`count=N`, `fd=3 name=x`),
//       or `error code=...`. With --serve, accepts one connection on each and writes
//       `hello fd=3 name=x` to it.
//   journald-probe notify [--status TEXT]
//       Sends READY=1 (+STATUS), STATUS, WATCHDOG=1, RELOADING=1, STOPPING=1 and prints
//       what became of each, then the watchdog interval.
import Logging
import SidecarCore
import SidecarSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

func option(_ name: String, in arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func fail(_ message: String) -> Never {
    _ = "journald-probe: \(message)\n".withCString { write(STDERR_FILENO, $0, strlen($0)) }
    exit(2)
}

func describe(_ delivery: SystemdNotifier.Delivery) -> String {
    switch delivery {
    case .sent: "sent"
    case .notSupervised: "not_supervised"
    case .failed(let errno): "failed_errno_\(errno)"
    }
}

func runLog(_ arguments: [String]) {
    let targetName = option("--target", in: arguments) ?? "auto"
    guard let target = SidecarLogging.Target(rawValue: targetName) else { fail("unknown target \(targetName)") }
    let secretValue = option("--secret-env", in: arguments).flatMap { getenv($0) }.map { String(cString: $0) }
    let secret = Secret(secretValue ?? "no-secret-given")

    let provider = Logger.MetadataProvider {
        ["provided": "by-provider", "precedence": "provider", "provider_over_handler": "provider"]
    }
    let destination = JournalDetection.current().resolve(target)
    var logger = Logger(label: "smtp-sidecar.probe") { label in
        SidecarLogging.makeHandler(label: label, target: target, identifier: "journald-probe", metadataProvider: provider)
    }
    logger.logLevel = .trace
    logger[metadataKey: "component"] = "probe"
    logger[metadataKey: "precedence"] = "handler"
    logger[metadataKey: "provider_over_handler"] = "handler"
    print("destination=\(destination.rawValue)")

    let metadata: Logger.Metadata = [
        "smtp_host": "mx.example.com",
        "smtp": ["port": "587", "tls": ["mode": "starttls"]],
        "weird key.name-42": "sanitized",
        "2fa": "digit-first",
        "_private": "leading-underscore",
        "message": "not the message",
        "recipients": ["a@example.com", "b@example.com"],
        "multi_line": "line one\nline two\n\ttabbed",
        "password": .stringConvertible(secret),
        "precedence": "call",
    ]
    logger.info("authenticating with password \(secret)", metadata: metadata); print("logged level=info line=\(#line)")
    logger.trace("trace entry"); print("logged level=trace line=\(#line)")
    logger.debug("debug entry"); print("logged level=debug line=\(#line)")
    logger.notice("notice entry"); print("logged level=notice line=\(#line)")
    logger.warning("warning entry"); print("logged level=warning line=\(#line)")
    logger.error("error entry"); print("logged level=error line=\(#line)")
    logger.critical("critical entry"); print("logged level=critical line=\(#line)")
    // Larger than a datagram can carry: libsystemd passes it to journald in a memfd.
    let large = String(repeating: "0123456789", count: 30_000)
    logger.info("large entry", metadata: ["large_value": "\(large)"]); print("logged level=large line=\(#line)")
}

func runListenFDs(_ arguments: [String]) {
    let sockets: [(fd: Int32, name: String)]
    do {
        sockets = try SystemdListenFDs.take()
    } catch {
        print("error code=\(error.code)")
        exit(1)
    }
    print("count=\(sockets.count)")
    for socket in sockets {
        print("fd=\(socket.fd) name=\(socket.name)")
    }
    print("listen_fds_env=\(getenv("LISTEN_FDS").map { String(cString: $0) } ?? "unset")")
    let again = (try? SystemdListenFDs.take())?.count ?? -1
    print("second_take_count=\(again)")
    guard arguments.contains("--serve") else { return }
    for socket in sockets {
        let connection = accept(socket.fd, nil, nil)
        guard connection >= 0 else { fail("accept on fd \(socket.fd) failed: errno \(errno)") }
        let reply = "hello fd=\(socket.fd) name=\(socket.name)\n"
        _ = reply.withCString { write(connection, $0, strlen($0)) }
        close(connection)
    }
}

func runNotify(_ arguments: [String]) {
    let notifier = SystemdNotifier()
    let status = option("--status", in: arguments) ?? "probe ready"
    print("ready=\(describe(notifier.ready(status: status)))")
    print("status=\(describe(notifier.status("probe working")))")
    print("watchdog=\(describe(notifier.watchdog()))")
    print("reloading=\(describe(notifier.reloading()))")
    print("stopping=\(describe(notifier.stopping()))")
    do {
        if let interval = try notifier.watchdogInterval() {
            print("watchdog_interval_ms=\(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)")
        } else {
            print("watchdog_interval=off")
        }
    } catch {
        print("watchdog_error code=\(error.code)")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "log": runLog(arguments)
case "listen-fds": runListenFDs(arguments)
case "notify": runNotify(arguments)
default: fail("usage: journald-probe log|listen-fds|notify [options]")
}
