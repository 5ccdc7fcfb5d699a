import NIOCore
import NIOPosix
@testable import SidecarServer
import Testing

@Suite struct EventLoopTaskExecutorTests {
    /// Nonisolated async work, the kind a request runs through (pool, SMTP, composer).
    nonisolated func hopThrough(_ loop: any EventLoop, depth: Int) async -> [Bool] {
        if depth == 0 { return [loop.inEventLoop] }
        await Task.yield()
        return [loop.inEventLoop] + (await hopThrough(loop, depth: depth - 1))
    }

    @Test func aPreferringTaskAndItsChildrenRunOnTheLoopAcrossSuspensions() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let executor = EventLoopTaskExecutor(eventLoop: loop)
        let observed = await withTaskGroup(of: [Bool].self) { tasks in
            tasks.addTask(executorPreference: executor) {
                // A child task of the preferring task inherits the preference.
                await withTaskGroup(of: [Bool].self) { children in
                    children.addTask { await self.hopThrough(loop, depth: 5) }
                    var all = await self.hopThrough(loop, depth: 5)
                    for await child in children { all += child }
                    // A continuation resumed from the loop brings the task back to it.
                    let promise = loop.makePromise(of: Void.self)
                    loop.scheduleTask(in: .milliseconds(1)) { promise.succeed() }
                    try? await promise.futureResult.get()
                    return all + [loop.inEventLoop]
                }
            }
            var all: [Bool] = []
            for await observed in tasks { all += observed }
            return all
        }
        #expect(observed.count == 13)
        #expect(observed.allSatisfy { $0 })
    }
}
