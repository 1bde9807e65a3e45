import Foundation
import Hummingbird
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceStore

/// What every route shares: the store, how specs resolve, where uploads go, and the ingest
/// loop to wake when a job is created.
struct SluiceAPI: Sendable {
    let store: any JobStore
    let resolver: SpecResolver
    let configuration: ServerConfiguration
    let ingest: IngestService

    /// A job the caller may see; anyone else's is `404`, exactly like a missing one.
    func ownedJob(_ id: String, by caller: Principal) async throws -> Job {
        guard let job = try await store.job(id: id), caller.owns(job.owner) else { throw APIError.notFound("job \(id)") }
        return job
    }

    /// Runs a store operation, answering `409` when the job's status does not allow it.
    func transition(_ operation: () async throws -> Job) async throws -> Job {
        do {
            return try await operation()
        } catch let error as StoreError {
            switch error {
            case .invalidTransition: throw APIError.conflict(error.description)
            case .jobNotFound(let id): throw APIError.notFound("job \(id)")
            default: throw error
            }
        }
    }

    /// Runs `body` with a new folder `name` under the upload directory to fill, and removes
    /// the folder again if `body` fails: a refused request leaves nothing behind.
    func inFolder<T>(_ name: String, _ body: (String) async throws -> T) async throws -> T {
        let path = configuration.uploadDirectory + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        do {
            return try await body(path)
        } catch {
            discard(path)
            throw error
        }
    }

    /// `413` for a body whose declared length is over the limit, before any of it is read.
    func refuseDeclaredOversize(_ request: Request) throws {
        let limit = configuration.maxUploadBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw APIError.tooLarge(limit: limit) }
    }

    func discard(_ folder: String) {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `limit` from the query: 1…`maximum`, `fallback` when absent.
    static func limit(_ request: Request, fallback: Int = 20, maximum: Int = 1_000) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return fallback }
        guard let value = Int(text), (1...maximum).contains(value) else {
            throw APIError.badRequest("limit must be an integer from 1 to \(maximum)", param: "limit")
        }
        return value
    }
}
