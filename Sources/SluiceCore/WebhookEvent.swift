import Foundation

/// The event a job's ending sends to webhooks, in OpenAI's event shape:
/// `{"id": "evt_…", "object": "event", "type": "batch.completed", "created_at": …, "data": {"id": …}}`.
///
/// Batches (OpenAI's and Anthropic's) say `batch.*` as OpenAI does, so the OpenAI SDK's
/// `webhooks.unwrap` reads them; native jobs say `job.*` and add their status and counts.
public enum WebhookEvent {
    /// Every event an endpoint may subscribe to.
    public static let types = [
        "batch.completed", "batch.failed", "batch.cancelled", "batch.expired",
        "job.completed", "job.failed", "job.cancelled", "job.expired",
    ]

    /// The event type of a job's ending, `nil` while it has not ended. A batch whose every
    /// request failed still completed (its failures are in its error file); only a batch whose
    /// input was refused failed — as ``BatchAttributes`` batches report their status.
    public static func type(of job: Job) -> String? {
        guard job.status.isFinal else { return nil }
        let prefix = job.batch == nil ? "job" : "batch"
        switch job.status {
        case .completed, .completedWithErrors: return prefix + ".completed"
        case .failed: return prefix + (job.batch != nil && job.counts.total > 0 ? ".completed" : ".failed")
        case .cancelled: return prefix + ".cancelled"
        case .expired: return prefix + ".expired"
        default: return nil
        }
    }

    /// The event's body, exactly the bytes that are signed and sent.
    public static func payload(of job: Job, type: String, eventID: String) -> String {
        var data = JSONObject([("id", .string(job.id))])
        if job.batch == nil {
            data["status"] = .string(job.status.rawValue)
            data["counts"] = [
                "total": .int(job.counts.total), "succeeded": .int(job.counts.succeeded), "failed": .int(job.counts.failed),
                "cancelled": .int(job.counts.cancelled),
            ]
        }
        let created = Int((job.finishedAt ?? job.createdAt).timeIntervalSince1970)
        return JSONWriter.string([
            "id": .string(eventID), "object": "event", "type": .string(type), "created_at": .int(created), "data": .object(data),
        ])
    }
}
