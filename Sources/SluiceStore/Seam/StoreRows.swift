import Foundation
public import SluiceCore

/// Reading jobs, items, files and keys back from rows, and the text forms they are stored in:
/// one reading for both drivers.
public enum StoreRows {
    public static let jobColumns = """
        seq, id, owner, name, status, status_reason, spec, sources, fingerprint, total, pending, running, succeeded, \
        failed, cancelled, prompt_tokens, completion_tokens, created_at, started_at, finished_at, batch, expires_at, calls, \
        cached, cost_micros, budget_tokens, budget_cost_micros, stage, stage_message, cached_tokens, cache_write_tokens, \
        reasoning_tokens, reply_token_cap, list_cost_micros, flex_calls, batch_calls, priority, trace_context
        """

    public static let itemColumns = """
        id, idx, group_key, status, input, output, error, attempts, lease_owner, lease_expires_at, prompt_tokens, \
        completion_tokens, model, started_at, finished_at, pack_size, cached, round, cached_tokens, cache_write_tokens, \
        reasoning_tokens, finish_reason, reply_tokens
        """

    public static let fileColumns = "id, owner, filename, purpose, bytes, path, created_at, expires_at"

    public static let keyColumns = """
        id, user_name, is_admin, hash, prefix, created_at, revoked_at, weight, tokens_per_day, tokens_per_month, cost_micros_per_day, \
        cost_micros_per_month
        """

    public static func job(_ row: SQLRow, errors: [JobErrorEntry], specs: ParsedSpecs? = nil) throws -> Job {
        let id = try row.text("id")
        guard let status = JobStatus(rawValue: try row.text("status")) else { throw StoreError.corrupt("status of job \(id)") }
        var spec: JobSpec
        do {
            let parse = { (text: String) in try JobSpec(stored: try JSONParser.parse(text)) }
            spec = try specs.map { try $0.spec(id: id, text: try row.text("spec"), parse: parse) } ?? parse(try row.text("spec"))
        } catch {
            throw StoreError.corrupt("spec of job \(id): \(error)")
        }
        // The caps live in columns (a resume may raise them); the spec shows the current ones.
        let tokens = try row.optionalInt64("budget_tokens")
        let costMicros = try row.optionalInt64("budget_cost_micros")
        spec.budget =
            tokens == nil && costMicros == nil
            ? nil : Budget(tokens: tokens.map { Int($0) }, costUSD: costMicros.map { Double($0) / 1_000_000 })
        if let cap = try row.optionalInt64("reply_token_cap") { spec.maxReplyTokens = Int(cap) }
        // The priority lives in a column too (an admin may change it while the job runs).
        let rank = try row.int("priority")
        spec.priority = JobPriority.allCases.first { $0.rank == rank } ?? .normal
        var stage: JobStage?
        if let name = try row.optionalText("stage") {
            guard let parsed = JobStage(rawValue: name) else { throw StoreError.corrupt("stage of job \(id)") }
            stage = parsed
        }
        guard let stored = (try? JSONParser.parse(try row.text("sources")))?.arrayValue else {
            throw StoreError.corrupt("sources of job \(id)")
        }
        let sources = try stored.map { source in
            guard let source = JobSource(json: source) else { throw StoreError.corrupt("sources of job \(id)") }
            return source
        }
        var batch: BatchAttributes?
        if let text = try row.optionalText("batch") {
            guard let attributes = (try? JSONParser.parse(text)).flatMap(BatchAttributes.init(json:)) else {
                throw StoreError.corrupt("batch attributes of job \(id)")
            }
            batch = attributes
        }
        var job = Job(
            id: id, owner: try row.text("owner"), name: try row.text("name"), status: status,
            statusReason: try row.optionalText("status_reason"), spec: spec, sources: sources,
            fingerprint: try row.optionalText("fingerprint"),
            batch: batch,
            expiresAt: try row.optionalDate("expires_at"), counts: try counts(row),
            usage: try usage(row), errors: errors, createdAt: try row.date("created_at"), startedAt: try row.optionalDate("started_at"),
            finishedAt: try row.optionalDate("finished_at"), calls: try row.int("calls"), cached: try row.int("cached"),
            costMicros: try row.int64("cost_micros"), stage: stage, stageMessage: try row.optionalText("stage_message"),
            listCostMicros: try row.int64("list_cost_micros"), flexCalls: try row.int("flex_calls"), batchCalls: try row.int("batch_calls"))
        if let text = try row.optionalText("trace_context"), let object = (try? JSONParser.parse(text))?.objectValue {
            job.traceContext = Dictionary(object.compactMap { member in member.value.stringValue.map { (member.key, $0) } }) { $1 }
        }
        return job
    }

    /// A trace context as stored: a JSON object, or `NULL` when there is none.
    public static func text(traceContext: [String: String]) -> String? {
        traceContext.isEmpty
            ? nil : JSONWriter.string(.object(JSONObject(traceContext.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
    }

    public static func counts(_ row: SQLRow) throws -> JobCounts {
        JobCounts(
            total: try row.int("total"), pending: try row.int("pending"), running: try row.int("running"),
            succeeded: try row.int("succeeded"), failed: try row.int("failed"), cancelled: try row.int("cancelled"))
    }

    public static func item(_ row: SQLRow, jobID: String) throws -> Item {
        let id = try row.int64("id")
        guard let status = ItemStatus(rawValue: try row.text("status")) else { throw StoreError.corrupt("status of item \(id)") }
        guard case .object(let input)? = try? JSONParser.parse(try row.text("input")) else {
            throw StoreError.corrupt("input of item \(id)")
        }
        var output: JSONValue?
        if let text = try row.optionalText("output") {
            guard let parsed = try? JSONParser.parse(text) else { throw StoreError.corrupt("output of item \(id)") }
            output = parsed
        }
        return Item(
            id: id, jobID: jobID, index: try row.int("idx"), groupKey: try row.optionalText("group_key"), status: status,
            input: input, output: output, error: try row.optionalText("error"), attempts: try row.int("attempts"),
            leaseOwner: try row.optionalText("lease_owner"), leaseExpiresAt: try row.optionalDate("lease_expires_at"),
            usage: try usage(row), model: try row.optionalText("model"), startedAt: try row.optionalDate("started_at"),
            finishedAt: try row.optionalDate("finished_at"), packSize: try row.optionalInt64("pack_size").map { Int($0) },
            cached: try row.int("cached") != 0, round: try row.int("round"), finishReason: try row.optionalText("finish_reason"),
            replyTokens: try row.optionalInt64("reply_tokens").map { Int($0) })
    }

    /// A job's or an item's tokens.
    static func usage(_ row: SQLRow) throws -> TokenUsage {
        TokenUsage(
            promptTokens: try row.int("prompt_tokens"), completionTokens: try row.int("completion_tokens"),
            cachedTokens: try row.int("cached_tokens"), cacheWriteTokens: try row.int("cache_write_tokens"),
            reasoningTokens: try row.int("reasoning_tokens"))
    }

    public static func file(_ row: SQLRow) throws -> StoredFile {
        StoredFile(
            id: try row.text("id"), owner: try row.text("owner"), filename: try row.text("filename"), purpose: try row.text("purpose"),
            bytes: try row.int("bytes"), path: try row.text("path"), createdAt: try row.date("created_at"),
            expiresAt: try row.optionalDate("expires_at"))
    }

    public static func key(_ row: SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.text("id"), user: try row.text("user_name"), isAdmin: try row.int("is_admin") != 0, hash: try row.text("hash"),
            prefix: try row.text("prefix"), createdAt: try row.date("created_at"), revokedAt: try row.optionalDate("revoked_at"),
            weight: try row.int("weight"),
            quota: KeyQuota(
                tokensPerDay: try row.optionalInt64("tokens_per_day"), tokensPerMonth: try row.optionalInt64("tokens_per_month"),
                costMicrosPerDay: try row.optionalInt64("cost_micros_per_day"),
                costMicrosPerMonth: try row.optionalInt64("cost_micros_per_month")))
    }

    public static func errorEntry(_ row: SQLRow) throws -> JobErrorEntry {
        guard let entry = (try? JSONParser.parse(try row.text("body"))).flatMap(JobErrorEntry.init(json:)) else {
            throw StoreError.corrupt("an error entry of a job")
        }
        return entry
    }

    public static func text(_ value: JSONValue) -> String { JSONWriter.string(value) }

    public static func text(_ sources: [JobSource]) -> String { JSONWriter.string(.array(sources.map(\.json))) }
}
