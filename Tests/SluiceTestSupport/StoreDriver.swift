import Foundation
import SluiceCore
import SluiceStore

/// The store drivers the conformance suite runs against. Every test of the suite takes a
/// driver as its argument, so a behaviour one driver lacks fails by name.
public enum StoreDriver: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite

    public var description: String { rawValue }

    /// A fresh, empty store, alive with its files as long as the fixture is.
    public func makeStore() throws -> StoreFixture {
        let directory = TemporaryDirectory()
        switch self {
        case .sqlite: return StoreFixture(store: try SQLiteJobStore(path: directory.path("sluice.sqlite")), directory: directory)
        }
    }
}

/// A store and whatever must outlive it (its database file).
public struct StoreFixture: Sendable {
    public let store: any JobStore
    public let directory: TemporaryDirectory
}

/// Shortcuts for building jobs in tests.
public enum Fixtures {
    public static func spec(_ json: JSONValue = ["template": "{{text}}"]) -> JobSpec {
        try! JobSpec.parse(json, preset: { _ in nil })
    }

    /// Creates a job and appends `count` items (`{"text": "item N"}`), grouped by `groups` when given.
    public static func queuedJob(
        in store: any JobStore, count: Int, spec: JobSpec = spec(), owner: String = "alice", groups: ((Int) -> String?)? = nil,
        now: Date
    ) async throws -> Job {
        let job = try await store.createJob(NewJob(owner: owner, name: "test", spec: spec, sources: []), now: now)
        let items = (0..<count).map { index in
            NewItem(index: index, groupKey: groups?(index), input: JSONObject([("text", .string("item \(index)"))]))
        }
        if !items.isEmpty { try await store.appendItems(jobID: job.id, items: items) }
        return try await store.finishValidation(jobID: job.id, now: now)
    }
}
