public import Hummingbird
import Logging

/// The per-request state the middlewares fill in for the routes.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    public var requestID = ""

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// The caller, which the auth middleware has always set before a route runs.
    func caller() throws -> Principal {
        guard let principal else { throw APIError(.unauthorized, code: "unauthorized", "authentication required") }
        return principal
    }
}
