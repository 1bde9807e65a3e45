import Foundation
import GRDB
import SluiceCore

/// Reading jobs and items back from rows, and the text forms they are stored in.
enum SQLiteRows {
    static let jobColumns = """
        seq, id, owner, name, status, status_reason, spec, sources, fingerprint, total, pending, running, succeeded, \
        failed, cancelled, prompt_tokens, completion_tokens, errors, created_at, started_at, finished_at, batch, expires_at
        """

    static let itemColumns = """
        items.id, items.idx, items.group_key, items.status, items.input, items.output, items.error, items.attempts, \
        items.lease_owner, items.lease_expires_at, items.prompt_tokens, items.completion_tokens, items.model, \
        items.started_at, items.finished_at
        """

    static func date(_ value: Double?) -> Date? { value.map(Date.init(timeIntervalSince1970:)) }

    static func job(_ row: Row) throws -> Job {
        let id: String = row["id"]
        guard let status = JobStatus(rawValue: row["status"]) else { throw StoreError.corrupt("status of job \(id)") }
        let spec: JobSpec
        do {
            spec = try JobSpec(stored: try JSONParser.parse(row["spec"] as String))
        } catch {
            throw StoreError.corrupt("spec of job \(id): \(error)")
        }
        let sources = (try? JSONParser.parse(row["sources"] as String))?.arrayValue?.compactMap(JobSource.init(json:)) ?? []
        let errors = (try? JSONParser.parse(row["errors"] as String))?.arrayValue?.compactMap(JobErrorEntry.init(json:)) ?? []
        return Job(
            id: id, owner: row["owner"], name: row["name"], status: status, statusReason: row["status_reason"], spec: spec,
            sources: sources, fingerprint: row["fingerprint"],
            batch: (row["batch"] as String?).flatMap { try? JSONParser.parse($0) }.flatMap(BatchAttributes.init(json:)),
            expiresAt: date(row["expires_at"]),
            counts: JobCounts(
                total: row["total"], pending: row["pending"], running: row["running"], succeeded: row["succeeded"],
                failed: row["failed"], cancelled: row["cancelled"]),
            usage: TokenUsage(promptTokens: row["prompt_tokens"], completionTokens: row["completion_tokens"]),
            errors: errors, createdAt: Date(timeIntervalSince1970: row["created_at"]), startedAt: date(row["started_at"]),
            finishedAt: date(row["finished_at"]))
    }

    static func item(_ row: Row, jobID: String) throws -> Item {
        let id: Int64 = row["id"]
        guard let status = ItemStatus(rawValue: row["status"]) else { throw StoreError.corrupt("status of item \(id)") }
        guard case .object(let input)? = try? JSONParser.parse(row["input"] as String) else {
            throw StoreError.corrupt("input of item \(id)")
        }
        var output: JSONValue?
        if let text = row["output"] as String? {
            guard let parsed = try? JSONParser.parse(text) else { throw StoreError.corrupt("output of item \(id)") }
            output = parsed
        }
        return Item(
            id: id, jobID: jobID, index: row["idx"], groupKey: row["group_key"], status: status, input: input, output: output,
            error: row["error"], attempts: row["attempts"], leaseOwner: row["lease_owner"],
            leaseExpiresAt: date(row["lease_expires_at"]),
            usage: TokenUsage(promptTokens: row["prompt_tokens"], completionTokens: row["completion_tokens"]),
            model: row["model"], startedAt: date(row["started_at"]), finishedAt: date(row["finished_at"]))
    }

    static func text(_ value: JSONValue) -> String { JSONWriter.string(value) }

    static func text(_ errors: [JobErrorEntry]) -> String { JSONWriter.string(.array(errors.map(\.json))) }

    static func text(_ sources: [JobSource]) -> String { JSONWriter.string(.array(sources.map(\.json))) }
}
