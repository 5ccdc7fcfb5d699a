import ArgumentParser

/// A failure the CLI reports as one line on stderr, exiting 1.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
