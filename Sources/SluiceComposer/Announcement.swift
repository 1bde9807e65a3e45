public import ServiceLifecycle

/// Says a process is running once its service group has started: by then the group traps
/// SIGTERM and SIGINT, so whoever waits for the words (an operator's script, a supervisor, a
/// test) may stop the process and have it stop cleanly. Said earlier, a stop could still meet
/// the signal's default action and kill the process mid-start.
public struct Announcement: Service {
    let announce: @Sendable () -> Void

    public init(_ announce: @escaping @Sendable () -> Void) {
        self.announce = announce
    }

    public func run() async throws {
        announce()
        try? await gracefulShutdown()
    }
}
