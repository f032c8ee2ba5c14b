#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

extension Invocation {
    /// Runs the invocation's tasks on the main thread and exits when it is done. Left to the async main,
    /// Dispatch would start worker threads for them and park the main thread in dispatch_main(), which on
    /// Linux ends it with pthread_exit and so unwinds its stack through `.eh_frame`: a quarter of a
    /// millisecond and over a megabyte of resident pages for a process that answers one event. The
    /// replay stores' own threads (SQLite, PostgreSQL) still resume the tasks here.
    func runOnMainThreadAndExit() -> Never {
        let executor = CallingThreadExecutor()
        Task.detached(executorPreference: executor) {
            do {
                try await run()
                exit(0)
            } catch {
                Baton.exit(withError: error)
            }
        }
        executor.run()
    }
}
