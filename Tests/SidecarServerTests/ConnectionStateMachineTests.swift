import SidecarProtocol
import SidecarServer
import Testing

@Suite struct ConnectionStateMachineTests {
    let start = ContinuousClock.now

    func machine(maxInFlight: Int = 2) -> ConnectionStateMachine {
        ConnectionStateMachine(maxInFlight: maxInFlight, idleTimeout: .seconds(10), now: start)
    }

    @Test func readsUntilEverySlotIsTakenThenResumesWhenOneFrees() {
        var machine = machine()
        #expect(machine.mayReadNextFrame)
        #expect(machine.requestDecoded(.integer(1)) == .dispatch)
        #expect(machine.mayReadNextFrame)
        #expect(machine.requestDecoded(.integer(2)) == .dispatch)
        #expect(!machine.mayReadNextFrame)
        #expect(machine.requestCompleted(.integer(1), now: start) == .resumeReading)
        #expect(machine.mayReadNextFrame)
        #expect(machine.requestCompleted(.integer(2), now: start) == .none)
    }

    @Test func duplicateIDInFlightIsRejectedButMayBeReusedAfterwards() {
        var machine = machine()
        #expect(machine.requestDecoded(.string("a")) == .dispatch)
        #expect(machine.requestDecoded(.string("a")) == .rejectDuplicateID)
        #expect(machine.inFlightCount == 1)
        _ = machine.requestCompleted(.string("a"), now: start)
        #expect(machine.requestDecoded(.string("a")) == .dispatch)
    }

    @Test func shutdownWithNothingInFlightClosesAtOnce() {
        var machine = machine()
        #expect(machine.shutdownRequested() == .closeInputNow)
        #expect(machine.readingIsOver)
        #expect(machine.shutdownRequested() == .none)
    }

    @Test func shutdownDrainsInFlightAndAnswersNewFramesShuttingDown() {
        var machine = machine(maxInFlight: 3)
        _ = machine.requestDecoded(.integer(1))
        _ = machine.requestDecoded(.integer(2))
        #expect(machine.shutdownRequested() == .closeWhenDrained)
        // Still reading so that frames sent meanwhile get an answer instead of silence.
        #expect(machine.mayReadNextFrame)
        #expect(!machine.readingIsOver)
        #expect(machine.requestDecoded(.integer(3)) == .rejectShuttingDown)
        // The refusal holds the last slot until it is written.
        #expect(!machine.mayReadNextFrame)
        #expect(machine.requestCompleted(.integer(1), now: start) == .resumeReading)
        #expect(machine.requestCompleted(.integer(2), now: start) == .none)
        #expect(!machine.readingIsOver)
        #expect(machine.refusalAnswered(now: start) == .close)
        #expect(machine.readingIsOver)
    }

    /// Issue 21 item 2: a malformed frame's answer holds a slot until written, so a client
    /// that floods refusals and never reads stops being read, exactly as with requests.
    @Test func refusalsTakeSlotsAndReadingPausesAtTheLimit() {
        var machine = machine(maxInFlight: 3)
        machine.frameRefused()
        machine.frameRefused()
        #expect(machine.slotsTaken == 2)
        #expect(machine.mayReadNextFrame)
        machine.frameRefused()
        #expect(!machine.mayReadNextFrame)
        #expect(machine.refusalAnswered(now: start) == .resumeReading)
        #expect(machine.mayReadNextFrame)
        #expect(machine.refusalAnswered(now: start) == .none)
        #expect(machine.refusalAnswered(now: start) == .none)
        #expect(machine.slotsTaken == 0)
    }

    @Test func duplicateAndShuttingDownRefusalsTakeSlotsToo() {
        var machine = machine(maxInFlight: 2)
        #expect(machine.requestDecoded(.string("a")) == .dispatch)
        #expect(machine.requestDecoded(.string("a")) == .rejectDuplicateID)
        #expect(!machine.mayReadNextFrame)
        #expect(machine.inFlightCount == 1 && machine.slotsTaken == 2)
        #expect(machine.refusalAnswered(now: start) == .resumeReading)
        #expect(machine.requestCompleted(.string("a"), now: start) == .none)
    }

    @Test func requestsAndRefusalsShareTheSlots() {
        var machine = machine(maxInFlight: 2)
        #expect(machine.requestDecoded(.integer(1)) == .dispatch)
        machine.frameRefused()
        #expect(!machine.mayReadNextFrame)
        #expect(machine.requestCompleted(.integer(1), now: start) == .resumeReading)
        #expect(machine.requestDecoded(.integer(2)) == .dispatch)
        #expect(!machine.mayReadNextFrame)
    }

    @Test func aPendingRefusalKeepsTheConnectionOpenUntilWrittenAndIsNotIdle() {
        var machine = machine()
        machine.frameRefused()
        #expect(machine.idleTimerFired(now: start + .seconds(30)) == .checkAgain(at: start + .seconds(40)))
        #expect(machine.inputClosed() == .closeWhenDrained)
        #expect(machine.readingIsOver)
        #expect(machine.refusalAnswered(now: start) == .none)
    }

    @Test func brokenFramingStopsReadingButLetsInFlightFinish() {
        var machine = machine()
        _ = machine.requestDecoded(.integer(1))
        #expect(machine.framingBroke() == .closeWhenDrained)
        #expect(machine.readingIsOver)
        #expect(!machine.mayReadNextFrame)
        // The reader has already stopped: completion needs no extra close.
        #expect(machine.requestCompleted(.integer(1), now: start) == .none)
    }

    @Test func clientClosingItsSideWhileDrainingForShutdownStopsReading() {
        var machine = machine()
        _ = machine.requestDecoded(.integer(1))
        _ = machine.shutdownRequested()
        #expect(machine.inputClosed() == .closeWhenDrained)
        #expect(machine.readingIsOver)
        #expect(machine.requestCompleted(.integer(1), now: start) == .none)
    }

    @Test func idleTimerClosesOnlyAnIdleConnectionAfterTheTimeout() {
        var machine = machine()
        #expect(machine.idleTimerFired(now: start + .seconds(5)) == .checkAgain(at: start + .seconds(10)))
        machine.frameReceived(now: start + .seconds(8))
        _ = machine.requestDecoded(.integer(1))
        // Busy: never idle, however long the request takes.
        #expect(machine.idleTimerFired(now: start + .seconds(30)) == .checkAgain(at: start + .seconds(40)))
        _ = machine.requestCompleted(.integer(1), now: start + .seconds(31))
        #expect(machine.idleTimerFired(now: start + .seconds(40)) == .checkAgain(at: start + .seconds(41)))
        #expect(machine.idleTimerFired(now: start + .seconds(41)) == .close)
        #expect(machine.readingIsOver)
        #expect(machine.idleTimerFired(now: start + .seconds(99)) == .stop)
    }
}

@Suite struct AdmissionStateMachineTests {
    @Test func admitsUpToTheLimitAndAgainAfterAClose() {
        var machine = AdmissionStateMachine(maxConnections: 2)
        #expect(machine.connectionAccepted(1) == .serve)
        #expect(machine.connectionAccepted(2) == .serve)
        #expect(machine.connectionAccepted(3) == .refuseTooManyConnections)
        machine.connectionClosed(1)
        #expect(machine.connectionAccepted(4) == .serve)
    }

    @Test func shutdownNamesOpenConnectionsOnceAndRefusesNewOnes() {
        var machine = AdmissionStateMachine(maxConnections: 4)
        _ = machine.connectionAccepted(1)
        _ = machine.connectionAccepted(2)
        machine.connectionClosed(2)
        #expect(machine.shutdownRequested() == [1])
        #expect(machine.shutdownRequested() == [])
        #expect(machine.connectionAccepted(5) == .refuseShuttingDown)
        #expect(machine.isShuttingDown)
    }
}
