import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import SluiceCore
import SluiceStore
import Synchronization

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`: what operators and tools probe.
struct OperationsRoutes {
    let api: SluiceAPI
    let metrics: ServerMetrics?

    func add(to routes: RouteTable) {
        routes.add(.get, "/healthz") { _, _ in Response.json(["status": "ok"]) }
        // Unauthenticated, so it says ready or not and nothing more; why goes to the log.
        routes.add(.get, "/readyz") { _, context in
            do {
                try await api.store.checkReady()
                return Response.json(["status": "ready"])
            } catch {
                context.logger.error(
                    "not ready", metadata: ["error": "\(error)", "driver": "\((error as? StoreError)?.driverError.map { "\($0)" } ?? "-")"])
                return Response.json(["status": "not_ready"], status: .serviceUnavailable)
            }
        }
        let token = api.configuration.metricsToken
        routes.add(.get, "/metrics") { [metrics] request, _ in
            guard let metrics else {
                throw APIError(.notFound, code: "not_found", "this server was started without a metrics registry")
            }
            if let token {
                let presented = (try? AuthMiddleware.presentedKey(request)) ?? nil
                guard BrowserSession.constantTimeEqual(presented ?? "", token) else {
                    throw APIError(
                        .unauthorized, code: "invalid_metrics_token", "/metrics needs Authorization: Bearer <the metrics token>",
                        headers: [.wwwAuthenticate: "Bearer"])
                }
            }
            // The census counts every job and open item: at most once per interval, whoever scrapes.
            if metrics.census.due() { metrics.record(try await api.store.census(), uploadsInProgress: api.uploadSlots.inProgress) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        // Read once when the routes are built, not on every request.
        let description = Self.apiDescription()
        routes.add(.get, "/openapi.yaml") { _, _ in
            guard let description else {
                throw APIError(.internalServerError, code: "server_error", "the API description is missing from this build")
            }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: description))
        }
    }

    static func apiDescription() -> ByteBuffer? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
            let data = FileManager.default.contents(atPath: url.path)
        else { return nil }
        return ByteBuffer(bytes: data)
    }
}
