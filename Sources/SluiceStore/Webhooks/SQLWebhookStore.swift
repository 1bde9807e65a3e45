public import Foundation
import SluiceCore

/// The webhook endpoints and their outbox of deliveries, over the SQL seam.
public struct SQLWebhookStore: WebhookStore, SQLStore {
    let context: StoreContext

    static let endpointColumns = "id, owner, url, events, secret, created_at"
    static let deliveryColumns =
        "id, endpoint_id, event_type, subject, payload, status, attempts, next_attempt_at, created_at, finished_at"

    public func createWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO webhook_endpoints (\(Self.endpointColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(endpoint.id), .text(endpoint.owner), .text(endpoint.url),
                    .text(JSONWriter.string(.array(endpoint.events.map(JSONValue.string)))), .text(endpoint.secret),
                    SQLValue(endpoint.createdAt),
                ])
        }
    }

    public func webhookEndpoint(id: String) async throws -> WebhookEndpoint? {
        try await read { tx in
            try tx.row("SELECT \(Self.endpointColumns) FROM webhook_endpoints WHERE id = ?", [.text(id)]).map(Self.endpoint)
        }
    }

    public func webhookEndpoints(owner: String?) async throws -> [WebhookEndpoint] {
        try await read { tx in
            try tx.rows(
                "SELECT \(Self.endpointColumns) FROM webhook_endpoints \(owner == nil ? "" : "WHERE owner = ?") ORDER BY created_at, id",
                owner.map { [.text($0)] } ?? []
            ).map(Self.endpoint)
        }
    }

    public func deleteWebhookEndpoint(id: String) async throws -> Bool {
        try await write { tx in try tx.execute("DELETE FROM webhook_endpoints WHERE id = ?", [.text(id)]) > 0 }
    }

    public func announceEndedJobs(limit: Int, now: Date) async throws -> Int {
        let final = JobStatus.allCases.filter(\.isFinal)
        // Rows another announcer holds are skipped, not waited for: it is announcing them.
        let skipLocked = database.skipLocked("jobs")
        // Marking a job announced makes no work: only queued deliveries wake anyone.
        return try await write(wakingIf: { $0 > 0 }) { tx in
            let ended = try SQLJobStore.fetchJobs(
                tx, where: "announced = 0 AND status IN (\(final.sqlList)) ORDER BY seq LIMIT ? \(skipLocked)", [SQLValue(limit)])
            var queued = 0
            for job in ended {
                // The guard is here: of two processes announcing one job, one changes the row.
                guard try tx.execute("UPDATE jobs SET announced = 1 WHERE id = ? AND announced = 0", [.text(job.id)]) == 1,
                    let type = WebhookEvent.type(of: job)
                else { continue }
                let endpoints = try tx.rows("SELECT \(Self.endpointColumns) FROM webhook_endpoints WHERE owner = ?", [.text(job.owner)])
                    .map(Self.endpoint).filter { $0.events.contains(type) }
                guard !endpoints.isEmpty else { continue }
                let payload = WebhookEvent.payload(of: job, type: type, eventID: Job.makeID(prefix: "evt_"))
                for endpoint in endpoints {
                    try tx.execute(
                        """
                        INSERT INTO webhook_deliveries (id, endpoint_id, event_type, subject, payload, status, next_attempt_at, created_at)
                        VALUES (?, ?, ?, ?, ?, \(WebhookDelivery.Status.pending.sql), ?, ?)
                        """,
                        [
                            .text(Job.makeID(prefix: "msg_")), .text(endpoint.id), .text(type), .text(job.id), .text(payload),
                            SQLValue(now), SQLValue(now),
                        ])
                    queued += 1
                }
            }
            return queued
        }
    }

    public func leaseDueDeliveries(owner: String, limit: Int, until: Date, now: Date) async throws -> [DueDelivery] {
        try await write(wakingIf: { !$0.isEmpty }) { tx in
            // The lease's condition is repeated on the row being changed: PostgreSQL re-checks it
            // there after waiting for a competing lease, so only one process leases a delivery.
            let due =
                "status = \(WebhookDelivery.Status.pending.sql) AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)"
            let rows = try tx.rows(
                """
                UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ?
                WHERE id IN (SELECT id FROM webhook_deliveries WHERE \(due) ORDER BY next_attempt_at LIMIT ?) AND \(due)
                RETURNING \(Self.deliveryColumns)
                """,
                [.text(owner), SQLValue(until), SQLValue(now), SQLValue(now), SQLValue(limit), SQLValue(now), SQLValue(now)])
            return try rows.compactMap { row in
                let delivery = try Self.delivery(row)
                guard
                    let endpoint = try tx.row(
                        "SELECT \(Self.endpointColumns) FROM webhook_endpoints WHERE id = ?", [.text(delivery.endpointID)]
                    ).map(Self.endpoint)
                else { return nil }
                return DueDelivery(delivery: delivery, url: endpoint.url, secret: endpoint.secret)
            }
        }
    }

    public func recordDeliveryAttempt(_ attempt: WebhookAttempt, deliveryID: String, owner: String, next: DeliveryNext) async throws
        -> Bool
    {
        let (status, nextAt, finished): (WebhookDelivery.Status, Date, Date?) =
            switch next {
            case .delivered: (.delivered, attempt.at, attempt.at)
            case .retry(let at): (.pending, at, nil)
            case .failed: (.failed, attempt.at, attempt.at)
            }
        return try await write { tx in
            guard
                let row = try tx.row(
                    """
                    UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, next_attempt_at = ?, finished_at = ?,
                    lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND lease_owner = ? AND status = \(WebhookDelivery.Status.pending.sql) RETURNING attempts
                    """,
                    [.text(status.rawValue), SQLValue(nextAt), SQLValue(finished), .text(deliveryID), .text(owner)])
            else { return false }
            try tx.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error) VALUES (?, ?, ?, ?, ?)",
                [
                    .text(deliveryID), .int(try row.int64("attempts")), SQLValue(attempt.at), SQLValue(attempt.statusCode),
                    SQLValue(attempt.error),
                ])
            return true
        }
    }

    public func webhookDeliveries(endpointID: String, limit: Int) async throws -> [WebhookDelivery] {
        try await read { tx in
            try tx.rows(
                "SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at DESC, id LIMIT ?",
                [.text(endpointID), SQLValue(limit)]
            ).map(Self.delivery)
        }
    }

    public func webhookAttempts(deliveryID: String) async throws -> [WebhookAttempt] {
        try await read { tx in
            try tx.rows(
                "SELECT attempt, at, status_code, error FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt", [.text(deliveryID)]
            ).map { row in
                WebhookAttempt(
                    attempt: try row.int("attempt"), at: try row.date("at"),
                    statusCode: try row.optionalInt64("status_code").map { Int($0) },
                    error: try row.optionalText("error"))
            }
        }
    }

    static func endpoint(_ row: SQLRow) throws -> WebhookEndpoint {
        let id = try row.text("id")
        guard let events = (try? JSONParser.parse(try row.text("events")))?.arrayValue?.compactMap(\.stringValue) else {
            throw StoreError.corrupt("events of webhook endpoint \(id)")
        }
        return WebhookEndpoint(
            id: id, owner: try row.text("owner"), url: try row.text("url"), events: events, secret: try row.text("secret"),
            createdAt: try row.date("created_at"))
    }

    static func delivery(_ row: SQLRow) throws -> WebhookDelivery {
        let id = try row.text("id")
        guard let status = WebhookDelivery.Status(rawValue: try row.text("status")) else {
            throw StoreError.corrupt("status of webhook delivery \(id)")
        }
        return WebhookDelivery(
            id: id, endpointID: try row.text("endpoint_id"), eventType: try row.text("event_type"), subject: try row.text("subject"),
            payload: try row.text("payload"), status: status, attempts: try row.int("attempts"),
            nextAttemptAt: try row.date("next_attempt_at"), createdAt: try row.date("created_at"),
            finishedAt: try row.optionalDate("finished_at"))
    }
}
