import ArgumentParser
import Foundation
import Logging
import Metrics
import SluiceComposer
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceProviders
import SluiceServer
import SluiceStorage
import SluiceStore

/// `sluice serve`: the HTTP API, and (unless `--no-workers`) everything `sluice worker` runs, in
/// one process. With `--no-workers` it is only a front door: it keeps uploads and creates jobs,
/// and worker processes read them.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (native and OpenAI Batch) and run the workers.",
        discussion: """
            Auth defaults to off on a loopback address (one local user) and to required anywhere else; \
            the server refuses to run open on a non-loopback address. Create keys with `sluice keys create`. \
            SIGTERM or Ctrl-C stops accepting requests, lets calls in flight finish and exits.
            """ + "\n\n" + ProcessTracing.help)

    @Option(help: "Address to listen on.")
    var host = defaults.host

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = defaults.port

    @OptionGroup var databaseOption: DatabaseOption

    @OptionGroup var uploadsOption: UploadsOption

    /// The options' defaults are the server configuration's, said once there.
    private static let defaults = ServerConfiguration(uploadDirectory: "")

    @Option(help: "required or off (default: off on loopback, required elsewhere).")
    var auth: String?

    @Option(name: .customLong("max-upload-mb"), help: "Largest accepted request body, in MiB.")
    var maxUploadMB = defaults.maxUploadBytes >> 20

    @Option(name: .customLong("rate-limit"), help: "Requests a minute per API key; 0 turns the limit off.")
    var rateLimit = defaults.requestsPerMinute ?? 0

    @Option(name: .customLong("cors-origin"), help: "An origin allowed to call the API from a browser (repeatable).")
    var corsOrigins: [String] = []

    @Option(
        name: .customLong("allowed-host"),
        help: "A name besides localhost and loopback addresses that requests may address this server by while --auth is off (repeatable).")
    var allowedHosts: [String] = []

    @Option(
        name: .customLong("max-stored-gb-per-user"),
        help: "What one user may keep on the server (jobs' uploads, files, uploads in progress), in GiB.")
    var maxStoredGBPerUser = Double(defaults.maxStoredBytesPerUser) / Double(1 << 30)

    @Option(name: .customLong("session-hours"), help: "How long a web page sign-in lasts, in hours.")
    var sessionHours = defaults.sessionSeconds / 3600

    @Flag(
        name: .customLong("secure-cookies"),
        help: "Mark the web page's cookies Secure (when TLS ends at a proxy that sends no X-Forwarded-Proto: https).")
    var secureCookies = false

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may sit idle, or stall mid-body, before it is closed.")
    var idleTimeout = defaults.idleTimeoutSeconds

    @Option(name: .customLong("header-timeout"), help: "Seconds a request's headers may take to arrive, from their first byte (408 after).")
    var headerTimeout = defaults.headTimeoutSeconds

    @Option(name: .customLong("max-uploads-per-key"), help: "Uploads one API key may stream in at once (429 beyond).")
    var maxUploadsPerKey = defaults.maxUploadsPerKey

    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate (followed by any intermediates); needs --tls-key.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Flag(name: .customLong("no-workers"), help: "Serve the API only; workers run elsewhere against the same database.")
    var noWorkers = false

    @OptionGroup var processOptions: ProcessOptions

    @OptionGroup var providerOptions: ProviderOptions

    var concurrency: Int { processOptions.concurrency }

    func validate() throws {
        if let auth, AuthMode(rawValue: auth) == nil { throw ValidationError("--auth must be required or off") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard maxUploadMB > 0 else { throw ValidationError("--max-upload-mb must be positive") }
        guard maxStoredGBPerUser > 0 else { throw ValidationError("--max-stored-gb-per-user must be positive") }
        guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 (off) or positive") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() async throws {
        let logger = processOptions.startLogging()
        let registry = processOptions.startMetrics()
        let storage = try uploadsOption.storage(for: databaseOption)
        var configured = ServerConfiguration(
            host: host, port: port, auth: auth.flatMap(AuthMode.init(rawValue:)), uploadDirectory: storage.spoolDirectory,
            maxUploadBytes: maxUploadMB << 20, requestsPerMinute: rateLimit > 0 ? rateLimit : nil, corsOrigins: corsOrigins,
            sessionSeconds: sessionHours * 3600, secureCookies: secureCookies, idleTimeoutSeconds: idleTimeout,
            headTimeoutSeconds: headerTimeout, maxUploadsPerKey: maxUploadsPerKey,
            tls: tlsCert.flatMap { cert in tlsKey.map { TLSFiles(certificateChain: cert, privateKey: $0) } })
        configured.allowedHosts = allowedHosts
        configured.maxStoredBytesPerUser = Int(maxStoredGBPerUser * Double(1 << 30))
        configured.metricsToken = ProcessInfo.processInfo.environment["SLUICE_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let serverConfiguration = configured
        do {
            try serverConfiguration.validate()
        } catch {
            throw ValidationError(error.description)
        }
        let configuration = try providerOptions.configuration()
        let role: ProcessRole = noWorkers ? .api : .serve
        try await databaseOption.withStore(logger: logger) { store in
            let resolver = SpecResolver(catalog: try PresetCatalog.shipped(), configuration: configuration)
            let composer = Composer(
                role: role, store: store, configuration: configuration, storage: storage,
                engine: EngineConfiguration(
                    concurrency: concurrency, sharedPace: databaseOption.sharesLimits ? store.pace : nil, readings: store.readings),
                logger: logger, metrics: EngineMetrics(factory: MetricsSystem.factory))
            let workers = role.contains(.workers)
            let tracing = try ProcessTracing.start()
            try await composer.run(
                alongside: tracing.map { [$0] } ?? [],
                frontDoor: { clock, jobCreated, providers in
                    let auth = serverConfiguration.auth
                    return try SluiceServer.application(
                        configuration: serverConfiguration, stores: store.stores, resolver: resolver, storage: storage,
                        jobCreated: jobCreated,
                        clock: clock, logger: logger, metrics: ServerMetrics(registry: registry), providers: providers,
                        onRunning: { port in
                            logger.notice(
                                "sluice is serving",
                                metadata: [
                                    "address": "\(serverConfiguration.scheme)://\(serverConfiguration.host):\(port)",
                                    "auth": "\(auth.rawValue)",
                                    "workers": "\(workers)",
                                ])
                            FileHandle.standardOutput.write(
                                Data(
                                    "sluice serving on \(serverConfiguration.scheme)://\(serverConfiguration.host):\(port) (auth \(auth.rawValue), workers \(workers ? "on" : "off"))\n"
                                        .utf8))
                        })
                })
        }
    }
}
