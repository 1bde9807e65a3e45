import Foundation
import Hummingbird
import SluiceCore
import SluiceEngine
import SluiceStore

/// `/v1/webhooks`: a user's webhook endpoints and what was delivered to them. The secret that
/// signs an endpoint's events is shown once, in the answer that creates it.
struct WebhookRoutes {
    let api: SluiceAPI
    /// Endpoints one user may have.
    static let maximumEndpoints = 20

    func add(to routes: RouteTable) {
        routes.add(.post, "/v1/webhooks", create)
        routes.add(.get, "/v1/webhooks", list)
        routes.add(.get, "/v1/webhooks/:id", get)
        routes.add(.delete, "/v1/webhooks/:id", delete)
        routes.add(.get, "/v1/webhooks/:id/deliveries", deliveries)
    }

    func create(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let fields = try await api.jsonObject(request)
        guard let url = fields["url"]?.stringValue else { throw APIError.badRequest("url is required", param: "url") }
        guard case .array(let list)? = fields["events"], !list.isEmpty else {
            throw APIError.badRequest("events must be a non-empty list of: \(WebhookEvent.types.joined(separator: ", "))", param: "events")
        }
        var events: [String] = []
        for entry in list {
            guard let name = entry.stringValue, WebhookEvent.types.contains(name) else {
                throw APIError.badRequest(
                    "unknown event \(JSONWriter.string(entry)); events are \(WebhookEvent.types.joined(separator: ", "))", param: "events")
            }
            if !events.contains(name) { events.append(name) }
        }
        if let unknown = fields.keys.first(where: { !["url", "events"].contains($0) }) {
            throw APIError.badRequest("unknown field '\(unknown)'", param: unknown)
        }
        do {
            try await WebhookTarget.check(url, allowPrivate: api.webhookSettings.allowPrivateTargets)
        } catch {
            throw APIError.badRequest(error.description, param: "url")
        }
        guard try await api.webhooks.webhookEndpoints(owner: caller.user).count < Self.maximumEndpoints else {
            throw APIError.badRequest("a user may have at most \(Self.maximumEndpoints) webhook endpoints; delete one first")
        }
        let endpoint = WebhookEndpoint(
            id: Job.makeID(prefix: "we_"), owner: caller.user, url: url, events: events, secret: WebhookSignature.makeSecret(),
            createdAt: api.clock.now())
        try await api.webhooks.createWebhookEndpoint(endpoint)
        return Response.json(Self.object(endpoint, showingSecret: true))
    }

    func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let endpoints = try await api.webhooks.webhookEndpoints(owner: caller.isAdmin ? nil : caller.user)
        return Response.json(["object": "list", "data": .array(endpoints.map { Self.object($0) }), "has_more": false])
    }

    func get(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        Response.json(Self.object(try await owned(request, context: context)))
    }

    func delete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let endpoint = try await owned(request, context: context)
        _ = try await api.webhooks.deleteWebhookEndpoint(id: endpoint.id)
        return Response.json(["id": .string(endpoint.id), "object": "webhook_endpoint", "deleted": true])
    }

    /// The endpoint's deliveries, newest first, each with every try it had.
    func deliveries(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let endpoint = try await owned(request, context: context)
        let limit = try SluiceAPI.limit(request, fallback: 20, maximum: 100)
        var data: [JSONValue] = []
        for delivery in try await api.webhooks.webhookDeliveries(endpointID: endpoint.id, limit: limit) {
            let attempts = try await api.webhooks.webhookAttempts(deliveryID: delivery.id)
            data.append(Self.object(delivery, attempts: attempts))
        }
        return Response.json(["object": "list", "data": .array(data), "has_more": false])
    }

    func owned(_ request: Request, context: SluiceRequestContext) async throws -> WebhookEndpoint {
        let id = try context.parameters.require("id")
        guard let endpoint = try await api.webhooks.webhookEndpoint(id: id), try context.caller().owns(endpoint.owner) else {
            throw APIError.notFound("webhook endpoint \(id)")
        }
        return endpoint
    }

    static func object(_ endpoint: WebhookEndpoint, showingSecret: Bool = false) -> JSONValue {
        var object = JSONObject([
            ("id", .string(endpoint.id)), ("object", "webhook_endpoint"), ("url", .string(endpoint.url)),
            ("events", .array(endpoint.events.map(JSONValue.string))), ("created_at", Representation.timestamp(endpoint.createdAt)),
        ])
        if showingSecret { object["secret"] = .string(endpoint.secret) }
        return .object(object)
    }

    static func object(_ delivery: WebhookDelivery, attempts: [WebhookAttempt]) -> JSONValue {
        [
            "id": .string(delivery.id), "object": "webhook_delivery", "event_type": .string(delivery.eventType),
            "subject": .string(delivery.subject), "status": .string(delivery.status.rawValue),
            "created_at": Representation.timestamp(delivery.createdAt),
            "next_attempt_at": delivery.status == .pending ? Representation.timestamp(delivery.nextAttemptAt) : .null,
            "finished_at": Representation.timestamp(delivery.finishedAt),
            "event": (try? JSONParser.parse(delivery.payload)) ?? .null,
            "attempts": .array(
                attempts.map { attempt in
                    [
                        "attempt": .int(attempt.attempt), "at": Representation.timestamp(attempt.at),
                        "status_code": attempt.statusCode.map(JSONValue.int) ?? .null,
                        "error": attempt.error.map(JSONValue.string) ?? .null,
                    ]
                }),
        ]
    }
}
