public import NIOSSL
public import SluiceProviders

/// Runs `body` with a fake provider listening and an HTTP client to call it, and stops both
/// afterwards whether `body` succeeds or throws (an HTTP client must be shut down before release).
public func withFakeProvider<T>(
    _ behaviour: FakeProviderBehaviour = FakeProviderBehaviour(), tls: NIOSSLContext? = nil,
    _ body: (FakeProviderServer, ProviderHTTPClient) async throws -> T
) async throws -> T {
    let fake = try await FakeProviderServer(behaviour: behaviour, tls: tls)
    let http = ProviderHTTPClient()
    do {
        let result = try await body(fake, http)
        try await http.shutdown()
        try await fake.stop()
        return result
    } catch {
        try? await http.shutdown()
        try? await fake.stop()
        throw error
    }
}
