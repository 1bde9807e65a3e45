import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
import Yams

/// What `deploy/` ships, checked against the product itself: every Kubernetes document and
/// compose service names commands and flags the CLI's own `--help` lists, ports, users and
/// images the Containerfile and the build script make, environment names the CLI reads, probe
/// paths the server answers; every metric the dashboard and the alert rules name is in
/// `/metrics`. (The image and the compose file themselves run in `scripts/compose-test.sh`.)
@Suite struct DeploymentTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy").standardized

    static func text(_ path: String) throws -> String { try String(contentsOf: deploy.appendingPathComponent(path), encoding: .utf8) }

    /// What the image is: its tag (from the build script), user id, port and default command
    /// (from the Containerfile).
    struct Image {
        var tag: String
        var postgresTag: String
        var uid: Int
        var port: Int

        init() throws {
            let script = try DeploymentTests.text("build-image.sh")
            let tags = script.split(separator: "\n").compactMap { line in
                line.range(of: "-t localhost/").map { String(line[$0.upperBound...].prefix { !$0.isWhitespace && $0 != "\"" }) }
            }
            tag = "localhost/" + (try #require(tags.first { $0.hasPrefix("sluice:") }))
            postgresTag = "localhost/" + (try #require(tags.first { $0.hasPrefix("sluice-postgres:") }))
            let containerfile = try DeploymentTests.text("Containerfile")
            let user = try #require(containerfile.split(separator: "\n").first { $0.hasPrefix("USER ") })
            uid = try #require(Int(user.dropFirst(5).prefix { $0.isNumber }))
            let expose = try #require(containerfile.split(separator: "\n").first { $0.hasPrefix("EXPOSE ") })
            port = try #require(Int(expose.dropFirst(7)))
        }
    }

    /// The CLI's help, read once for every test here: each `sluice … --help` is a child process,
    /// and starting one can crash the test process in Swift 6.3's Foundation (a known over-read
    /// in `Process.run`), so fewer is safer.
    static let help = Help()

    /// The CLI's subcommands and each one's `--help` text.
    actor Help {
        var texts: [String: String] = [:]
        let directory = TemporaryDirectory()

        func of(_ command: String) async throws -> String {
            if let text = texts[command] { return text }
            let output = try await SluiceProcess.run(command.isEmpty ? ["--help"] : [command, "--help"], in: directory.url)
            #expect(output.status == 0, "sluice \(command) --help: \(output.stderr)")
            texts[command] = output.stdout
            return output.stdout
        }

        /// Checks `sluice command arguments…`: the subcommand exists and every flag is one of its own.
        func check(_ command: [String], in place: String) async throws {
            #expect(command.first == "sluice", "\(place) runs \(command)")
            guard command.count > 1 else { return }
            let subcommand = command[1]
            #expect(try await of("").contains("\n  \(subcommand) "), "\(place): `sluice \(subcommand)` is not a subcommand")
            let help = try await of(subcommand)
            for flag in command.dropFirst(2) where flag.hasPrefix("--") {
                #expect(help.contains("  \(flag) ") || help.contains("  \(flag)\n"), "\(place): `sluice \(subcommand)` has no \(flag)")
            }
        }
    }

    /// Every environment name the CLI reads, as its help documents them.
    static func documented(_ name: String, help: String) -> Bool {
        help.contains(name) || ["OPENAI_", "ANTHROPIC_", "AWS_"].contains { name.hasPrefix($0) && help.contains($0) }
    }

    /// The value after `flag` in `arguments`.
    static func value(of flag: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: flag).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
    }

    @Test func kubernetesManifestsMatchTheCLITheImageAndTheServer() async throws {
        let image = try Image()
        let help = Self.help
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.deploy.appendingPathComponent("kubernetes").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        var documents: [(file: String, object: [String: Any])] = []
        for file in files {
            for document in try Yams.load_all(yaml: try Self.text("kubernetes/" + file)) {
                let object = try #require(document as? [String: Any], "\(file): a document that is not a mapping")
                #expect(object["apiVersion"] is String && object["kind"] is String, "\(file)")
                #expect((object["metadata"] as? [String: Any])?["name"] is String, "\(file): every object is named")
                documents.append((file, object))
            }
        }
        func all(_ kind: String) -> [[String: Any]] { documents.filter { $0.object["kind"] as? String == kind }.map(\.object) }
        #expect(
            Set(documents.compactMap { $0.object["kind"] as? String }).isSuperset(of: [
                "Deployment", "Service", "Job", "Secret", "PodDisruptionBudget", "HorizontalPodAutoscaler",
            ]))
        let secret = try #require(all("Secret").first?["stringData"] as? [String: Any])
        let serveHelp = try await help.of("serve")
        for name in secret.keys where name != "SLUICE_UPLOADS" {
            #expect(Self.documented(name, help: serveHelp), "the Secret's \(name) is not a variable the CLI reads")
        }

        var podLabels: [String: [String: String]] = [:]
        var probed: Set<String> = []
        for workload in all("Deployment") + all("Job") {
            let name = try #require((workload["metadata"] as? [String: Any])?["name"] as? String)
            let spec = try #require(workload["spec"] as? [String: Any])
            let template = try #require(spec["template"] as? [String: Any])
            let labels = (template["metadata"] as? [String: Any])?["labels"] as? [String: String] ?? [:]
            podLabels[name] = labels
            if let selector = (spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String] {
                #expect(selector.allSatisfy { labels[$0.key] == $0.value }, "\(name): its selector matches its pods")
            }
            let pod = try #require(template["spec"] as? [String: Any])
            let security = pod["securityContext"] as? [String: Any]
            #expect(security?["runAsUser"] as? Int == image.uid, "\(name) runs as the image's user")
            for container in try #require(pod["containers"] as? [[String: Any]]) {
                #expect(container["image"] as? String == image.tag, "\(name) runs the image the script builds")
                let command = (container["command"] as? [String] ?? []) + (container["args"] as? [String] ?? [])
                try await help.check(command, in: name)
                // `$(NAME)` in an argument is expanded from the environment: it must be there.
                for argument in command where argument.hasPrefix("$(") {
                    #expect(secret[String(argument.dropFirst(2).dropLast())] != nil, "\(name): \(argument) is not in the Secret")
                }
                #expect(
                    (container["envFrom"] as? [[String: Any]])?.contains {
                        ($0["secretRef"] as? [String: Any])?["name"] as? String == "sluice"
                    }
                        == true, "\(name) reads the Secret")
                let ports = container["ports"] as? [[String: Any]] ?? []
                if let port = Self.value(of: "--port", in: command) {
                    #expect(
                        ports.map { $0["containerPort"] as? Int } == [Int(port)] && Int(port) == image.port,
                        "\(name): one port, the served one")
                }
                for probe in ["livenessProbe", "readinessProbe"] {
                    guard let get = (container[probe] as? [String: Any])?["httpGet"] as? [String: Any] else { continue }
                    #expect(ports.contains { $0["name"] as? String == get["port"] as? String }, "\(name): \(probe) names a port")
                    probed.insert(try #require(get["path"] as? String))
                }
                let requests = (container["resources"] as? [String: Any])?["requests"] as? [String: Any]
                #expect(requests?["cpu"] != nil && requests?["memory"] != nil, "\(name) requests resources")
            }
        }
        #expect(probed == ["/healthz", "/readyz"])
        func selects(_ selector: [String: String]?) -> Bool {
            guard let selector, !selector.isEmpty else { return false }
            return podLabels.values.contains { labels in selector.allSatisfy { labels[$0.key] == $0.value } }
        }
        for service in all("Service") {
            let spec = try #require(service["spec"] as? [String: Any])
            #expect(selects(spec["selector"] as? [String: String]), "the Service selects pods")
        }
        for budget in all("PodDisruptionBudget") {
            #expect(selects(((budget["spec"] as? [String: Any])?["selector"] as? [String: Any])?["matchLabels"] as? [String: String]))
        }
        var scaledOn: [String] = []
        for autoscaler in all("HorizontalPodAutoscaler") {
            let spec = try #require(autoscaler["spec"] as? [String: Any])
            let target = try #require((spec["scaleTargetRef"] as? [String: Any])?["name"] as? String)
            #expect(podLabels[target] != nil, "the autoscaler scales a Deployment here")
            for metric in spec["metrics"] as? [[String: Any]] ?? [] {
                if let name = ((metric["external"] as? [String: Any])?["metric"] as? [String: Any])?["name"] as? String {
                    scaledOn.append(name)
                }
            }
        }
        #expect(!scaledOn.isEmpty)

        // The probes and the metric the autoscaler reads, from a running server.
        try await ServerHarness.with { [probed, scaledOn] server in
            for path in probed { #expect(try await server.get(path).status == 200, "\(path)") }
            let metrics = try await server.get("/metrics").text
            for name in scaledOn { #expect(Self.names(in: metrics).contains(name), "\(name) is not in /metrics") }
        }
    }

    @Test func theComposeFileRunsTheImagesWithCommandsTheCLIKnows() async throws {
        let image = try Image()
        let help = Self.help
        let compose = try #require(try Yams.load(yaml: try Self.text("compose.yaml")) as? [String: Any])
        let services = try #require(compose["services"] as? [String: Any])
        #expect(Set(services.keys) == ["postgres", "migrate", "api", "worker-1", "worker-2"])
        for (name, value) in services {
            let service = try #require(value as? [String: Any])
            let tag = try #require(service["image"] as? String)
            if name == "postgres" {
                #expect(tag == image.postgresTag)
                continue
            }
            #expect(tag == image.tag, "\(name)")
            let command = try #require(service["command"] as? [String])
            try await help.check(command, in: name)
            let environment = try #require(service["environment"] as? [String: Any])
            #expect(environment["SLUICE_DATABASE"].map { "\($0)".hasPrefix("postgres://") } == true, "\(name) uses PostgreSQL")
            if command.count > 1, ["serve", "worker"].contains(command[1]) {
                #expect(Self.value(of: "--uploads", in: command) == "/var/lib/sluice/uploads", "\(name) shares the uploads")
                #expect((service["volumes"] as? [String])?.contains("uploads:/var/lib/sluice/uploads") == true)
            }
        }
        let api = try #require(services["api"] as? [String: Any])
        let command = try #require(api["command"] as? [String])
        #expect(command.contains("--no-workers") && Self.value(of: "--auth", in: command) == "required")
        #expect((api["ports"] as? [String]) == ["\(image.port):\(Self.value(of: "--port", in: command) ?? "")"])
    }

    /// The `sluice_…` series names of a scrape (histograms' `_bucket`, `_sum`, `_count` too).
    static func names(in scrape: String) -> Set<String> {
        Set(
            scrape.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
                String(line.prefix { $0 != "{" && $0 != " " })
            })
    }

    /// The `sluice_…` names an expression reads.
    static func metrics(in expression: String) -> Set<String> {
        var found: Set<String> = []
        var rest = Substring(expression)
        while let start = rest.range(of: "sluice_") {
            let name = rest[start.lowerBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            found.insert(String(name))
            rest = rest[name.endIndex...]
        }
        return found
    }

    @Test func everyMetricTheDashboardAndTheAlertsNameIsInMetrics() async throws {
        var expressions: [String] = []
        let dashboard = try #require(
            try JSONSerialization.jsonObject(with: Data(try Self.text("grafana/sluice.json").utf8)) as? [String: Any])
        for panel in try #require(dashboard["panels"] as? [[String: Any]]) {
            let targets = try #require(panel["targets"] as? [[String: Any]], "\(panel["title"] ?? "a panel") has no query")
            expressions += targets.compactMap { $0["expr"] as? String }
        }
        let alerts = try #require(try Yams.load(yaml: try Self.text("prometheus/alerts.yaml")) as? [String: Any])
        for group in try #require(alerts["groups"] as? [[String: Any]]) {
            for rule in try #require(group["rules"] as? [[String: Any]]) {
                #expect(rule["alert"] is String, "every rule alerts")
                expressions.append(try #require(rule["expr"] as? String))
            }
        }
        let named = expressions.reduce(into: Set<String>()) { $0.formUnion(Self.metrics(in: $1)) }
        #expect(named.count >= 12, "\(named.sorted())")

        // A job through a provider that reports usage, at a price, so tokens and cost are counted.
        let provider = ScriptedProvider(name: "metered") { _, _ throws(ProviderFailure) in "fine" }
        let prices = ModelPrices([.init(pattern: "scripted-*", inputPerMillion: 1, outputPerMillion: 2)])
        try await ServerHarness.with(providers: [provider], prices: prices) { server in
            let id = try #require(
                try await server.submit(reviewsCSV(3), query: "template=%7B%7Btext%7D%7D&provider=metered&model=scripted-1").json["id"]?
                    .stringValue)
            _ = try await server.waitFor(id, until: ServerHarness.isFinal)
            let scraped = Self.names(in: try await server.get("/metrics").text)
            let missing = named.subtracting(scraped)
            #expect(missing.isEmpty, "named but not in /metrics: \(missing.sorted())")
        }
    }
}
