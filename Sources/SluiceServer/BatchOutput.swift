import Foundation
import SluiceCore
import SluiceStore
import SluiceWire

/// A batch's output and error files in OpenAI's line format, written from the items on demand
/// (so they are never stored twice): succeeded requests go to the output file as their
/// endpoint's response, failed and cancelled ones to the error file.
enum BatchOutput {
    enum Kind: Equatable { case output, errors }

    static func fileID(batchID: String, kind: Kind) -> String {
        "file-\(batchID)-\(kind == .output ? "output" : "errors")"
    }

    /// The batch and kind an output file id names, if it is one.
    static func parse(fileID: String) -> (batchID: String, kind: Kind)? {
        guard fileID.hasPrefix("file-batch_") else { return nil }
        let rest = fileID.dropFirst("file-".count)
        if rest.hasSuffix("-output") { return (String(rest.dropLast("-output".count)), .output) }
        if rest.hasSuffix("-errors") { return (String(rest.dropLast("-errors".count)), .errors) }
        return nil
    }

    /// The file's size in bytes. The file is never stored, so it is written once to be measured,
    /// and the size kept under the file's etag: asking for a file's metadata again (an SDK polls
    /// it) reads one row, not every item. A batch retried ends at another time, so another etag.
    static func size(job: Job, kind: Kind, store: any JobStore) async throws -> Int {
        let name = kind == .output ? "output" : "errors"
        let etag = etag(job: job, kind: kind)
        if job.status.isFinal, let known = try await store.outputSize(jobID: job.id, kind: name, etag: etag) { return known }
        var bytes = 0
        try await write(job: job, kind: kind, store: store) { bytes += $0.count }
        if job.status.isFinal { try await store.setOutputSize(jobID: job.id, kind: name, etag: etag, bytes: bytes) }
        return bytes
    }

    /// A strong validator: a file's lines are fixed once its batch has ended, and a batch that
    /// runs again (a retry of its failures) ends at another time.
    static func etag(job: Job, kind: Kind) -> String {
        "\"\(fileID(batchID: job.id, kind: kind))-\(Int(((job.finishedAt ?? job.createdAt).timeIntervalSince1970 * 1000).rounded()))\""
    }

    /// When the batch's output and error files go (`output_expires_after` from its end).
    static func expiry(of job: Job) -> Date? {
        guard let seconds = job.batch?.outputExpiresAfter, let finished = job.finishedAt else { return nil }
        return finished.addingTimeInterval(Double(seconds))
    }

    /// Writes the file's lines in input order, a page at a time.
    static func write(job: Job, kind: Kind, store: any JobStore, _ sink: ([UInt8]) async throws -> Void) async throws {
        try await writeLines(of: job, store: store, line: { line(for: $0, of: job, kind: kind) }, sink)
    }

    /// Writes a JSON Lines file with `line` of each of the job's items (none where it gives
    /// `nil`), in input order, a page at a time: a batch's files, and message batches' results.
    static func writeLines(
        of job: Job, store: any JobStore, line: (Item) -> JSONValue?, _ sink: ([UInt8]) async throws -> Void
    ) async throws {
        try await store.forEachItemPage(jobID: job.id, pageSize: 1_000) { page in
            var bytes: [UInt8] = []
            for item in page {
                guard let line = line(item) else { continue }
                JSONWriter.write(line, to: &bytes)
                bytes.append(0x0A)
            }
            if !bytes.isEmpty { try await sink(bytes) }
        }
    }

    /// The body OpenAI's endpoint would have answered a succeeded item's request with.
    static func responseBody(for item: Item) -> BatchRequestOutput.Body {
        // A succeeded item always has its end.
        let created = Int((item.finishedAt ?? .distantPast).timeIntervalSince1970)
        let reference = "\(item.jobID.suffix(12))-\(item.index)"
        let model = item.model ?? ""
        let (text, toolCalls) = CallOutput.read(item.output)
        switch RequestLine.endpoint(of: item.input) {
        case .embeddings:
            let vectors = (item.output?.arrayValue ?? []).map { $0.arrayValue?.compactMap(\.doubleValue) ?? [] }
            return .embeddings(EmbeddingsReply(vectors: vectors, model: model, usage: item.usage))
        case .responses:
            return .response(
                ResponsesReply(
                    id: "resp_\(reference)", messageID: "msg_\(reference)", createdAt: created, model: model, text: text, usage: item.usage,
                    request: item.input["body"]?.objectValue ?? JSONObject(), toolCalls: toolCalls))
        case .chatCompletions, .messages:
            return .chatCompletion(
                ChatCompletion(
                    id: "chatcmpl-\(reference)", created: created, model: model, text: text, usage: item.usage,
                    finishReason: FinishReason.openAI(item.finishReason), toolCalls: toolCalls))
        }
    }

    /// One item's line in the file of `kind`, or `nil` when it belongs in the other file (or
    /// has not finished).
    static func line(for item: Item, of job: Job, kind: Kind) -> JSONValue? {
        let id = "batch_req_\(item.id)"
        let customID = item.input["custom_id"] ?? .null
        switch (item.status, kind) {
        case (.succeeded, .output):
            let requestID = "req_\(item.jobID.suffix(12))_\(item.index)"
            return WireEncoder.encode(
                BatchRequestOutput(id: id, customID: customID, outcome: .response(requestID: requestID, body: responseBody(for: item))))
        case (.failed, .errors), (.cancelled, .errors):
            let code: String
            let message: String
            switch (item.status, job.status) {
            case (.cancelled, .expired):
                (code, message) = ("batch_expired", "the batch's completion window ended before this request ran")
            case (.cancelled, _): (code, message) = ("batch_cancelled", "the batch was cancelled before this request ran")
            default: (code, message) = ("request_failed", item.error ?? "the request failed")
            }
            return WireEncoder.encode(BatchRequestOutput(id: id, customID: customID, outcome: .error(code: code, message: message)))
        default:
            return nil
        }
    }
}
