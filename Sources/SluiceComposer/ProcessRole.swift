/// What a process is for. The composer builds a process's services from its role, so which
/// background loops run where is decided here and nowhere else.
public struct ProcessRole: OptionSet, Sendable {
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The HTTP API and the web page: a front door that stores uploads and creates jobs.
    public static let frontDoor = ProcessRole(rawValue: 1 << 0)
    /// Reads uploaded jobs into items (leased per job, so any number of processes may).
    public static let ingest = ProcessRole(rawValue: 1 << 1)
    /// Sends webhooks and removes what has expired.
    public static let upkeep = ProcessRole(rawValue: 1 << 2)
    /// Claims items and calls the models, with the reaper that takes back dead workers' leases.
    public static let workers = ProcessRole(rawValue: 1 << 3)

    /// `sluice serve`: everything in one process.
    public static let serve: ProcessRole = [.frontDoor, .ingest, .upkeep, .workers]
    /// `sluice serve --no-workers`: only the front door; worker processes do the rest.
    public static let api: ProcessRole = [.frontDoor]
    /// `sluice worker`: everything behind the front door.
    public static let worker: ProcessRole = [.ingest, .upkeep, .workers]
    /// `sluice run`: one job's calls; the command reads the upload itself before they start,
    /// so that bad input is reported before any call.
    public static let run: ProcessRole = [.workers]
}
