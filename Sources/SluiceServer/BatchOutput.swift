import Foundation
import SluiceCore
import SluiceStore

/// A batch's output and error files in OpenAI's line format, written from the items on demand
/// (so they are never stored twice): succeeded requests go to the output file as
/// `chat.completion` responses, failed and cancelled ones to the error file.
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

    /// Writes the file's lines in input order, a page at a time.
    static func write(job: Job, kind: Kind, store: any JobStore, _ sink: ([UInt8]) async throws -> Void) async throws {
        var after = -1
        while true {
            let page = try await store.items(jobID: job.id, status: nil, afterIndex: after, limit: 1_000)
            guard let last = page.last else { return }
            var bytes: [UInt8] = []
            for item in page {
                guard let line = line(for: item, of: job, kind: kind) else { continue }
                JSONWriter.write(line, to: &bytes)
                bytes.append(0x0A)
            }
            if !bytes.isEmpty { try await sink(bytes) }
            after = last.index
        }
    }

    /// One item's line in the file of `kind`, or `nil` when it belongs in the other file (or
    /// has not finished).
    static func line(for item: Item, of job: Job, kind: Kind) -> JSONValue? {
        let customID = item.input["custom_id"] ?? .null
        let requestID = JSONValue.string("req_\(item.jobID.suffix(12))_\(item.index)")
        switch (item.status, kind) {
        case (.succeeded, .output):
            let created = Int((item.finishedAt ?? Date()).timeIntervalSince1970)
            let body: JSONValue = [
                "id": .string("chatcmpl-\(item.jobID.suffix(12))-\(item.index)"), "object": "chat.completion", "created": .int(created),
                "model": .string(item.model ?? ""),
                "choices": [
                    [
                        "index": 0, "message": ["role": "assistant", "content": .string(item.output?.plainText ?? ""), "refusal": nil],
                        "logprobs": nil, "finish_reason": "stop",
                    ]
                ],
                "usage": Representation.usage(item.usage),
            ]
            return [
                "id": .string("batch_req_\(item.id)"), "custom_id": customID,
                "response": ["status_code": 200, "request_id": requestID, "body": body], "error": nil,
            ]
        case (.failed, .errors), (.cancelled, .errors):
            let code: String
            let message: String
            switch (item.status, job.status) {
            case (.cancelled, .expired):
                (code, message) = ("batch_expired", "the batch's completion window ended before this request ran")
            case (.cancelled, _): (code, message) = ("batch_cancelled", "the batch was cancelled before this request ran")
            default: (code, message) = ("request_failed", item.error ?? "the request failed")
            }
            return [
                "id": .string("batch_req_\(item.id)"), "custom_id": customID, "response": nil,
                "error": ["code": .string(code), "message": .string(message)],
            ]
        default:
            return nil
        }
    }
}
