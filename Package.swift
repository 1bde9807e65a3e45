// swift-tools-version:6.1
import PackageDescription

/// Every target: `any` spelled out, members seen only through the file's own imports, and
/// imports internal unless a file says `public import`.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter's dependencies would double the build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(name: "SluiceCore"),
        .systemLibrary(name: "SluiceZlib", path: "Sources/SluiceZlib"),
        .target(name: "SluiceWire", dependencies: ["SluiceCore"]),
        .target(name: "SluiceSpreadsheet", dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "SluiceArchive", dependencies: ["SluiceCore", "SluiceZlib"]),
        .target(name: "SluiceIngest", dependencies: ["SluiceCore", "SluiceWire", "SluiceSpreadsheet", "SluiceArchive"]),
        .target(name: "SluiceStore", dependencies: ["SluiceCore"]),
        .target(
            name: "SluiceStoreSQLite",
            dependencies: [
                "SluiceCore", "SluiceStore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "SluiceStorePostgres",
            dependencies: [
                "SluiceCore", "SluiceStore", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "SluiceProviders",
            dependencies: [
                "SluiceZlib",
                "SluiceCore", "SluiceWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(name: "SluicePresets", dependencies: ["SluiceCore"], resources: [.copy("Presets")]),
        .target(
            name: "SluiceStorage",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SluiceEngine",
            dependencies: [
                "SluiceArchive",
                "SluiceCore", "SluiceWire", "SluiceIngest", "SluiceStore", "SluiceProviders", "SluiceStorage", "SluiceSpreadsheet",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "SluiceServer",
            dependencies: [
                "SluiceCore", "SluiceWire", "SluiceIngest", "SluiceStore", "SluicePresets", "SluiceEngine", "SluiceStorage",
                "SluiceProviders", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Resources")]
        ),
        .target(
            name: "SluiceComposer",
            dependencies: [
                "SluiceCore", "SluiceStore", "SluiceStorage", "SluiceProviders", "SluiceEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceComposer", "SluiceCore", "SluiceStore", "SluiceStoreSQLite", "SluiceStorePostgres", "SluiceProviders",
                "SluicePresets", "SluiceEngine", "SluiceServer", "SluiceStorage", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ]
        ),
        .executableTarget(
            name: "sluice-bench",
            dependencies: [
                "SluiceCore", "SluiceIngest", "SluiceStore", "SluiceStoreSQLite", "SluiceStorePostgres", "SluiceProviders",
                "SluiceEngine", "SluiceFakeProvider",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/sluice-bench"
        ),
        .target(
            name: "SluiceFakeProvider",
            dependencies: [
                "SluiceCore", "SluiceProviders",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/SluiceFakeProvider"
        ),
        .executableTarget(name: "sluice-fake-provider", dependencies: ["SluiceFakeProvider"], path: "Tests/sluice-fake-provider"),
        .target(
            name: "SluiceTestSupport",
            dependencies: [
                "SluiceCore", "SluiceProviders", "SluiceStore", "SluiceStoreSQLite", "SluiceStorePostgres", "SluiceStorage",
                "SluiceEngine", "SluiceZlib", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Tests/SluiceTestSupport"
        ),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"]),
        .testTarget(name: "SluiceWireTests", dependencies: ["SluiceCore", "SluiceWire"]),
        .testTarget(
            name: "SluiceIngestTests",
            dependencies: [
                "SluiceCore", "SluiceIngest", "SluiceSpreadsheet", "SluiceArchive", "SluiceTestSupport",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]),
        .testTarget(name: "SluiceStoreTests", dependencies: ["SluiceCore", "SluiceStore", "SluiceStorePostgres", "SluiceTestSupport"]),
        .testTarget(
            name: "SluiceStorageTests",
            dependencies: [
                "SluiceStorage", "SluiceTestSupport", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .testTarget(
            name: "SluiceEngineTests",
            dependencies: [
                "SluiceCore", "SluiceWire", "SluiceEngine", "SluicePresets", "SluiceProviders", "SluiceStore", "SluiceTestSupport",
                "SluiceFakeProvider", "SluiceZlib", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "SluiceServerTests",
            dependencies: [
                "SluiceServer", "SluiceComposer", "SluiceStore", "SluiceEngine", "SluiceProviders", "SluicePresets", "SluiceTestSupport",
                "SluiceFakeProvider", "SluiceSpreadsheet", "SluiceCore", "SluiceIngest", "SluiceStorage", "sluice", "sluice-fake-provider",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Yams", package: "Yams"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "SluiceCLITests",
            dependencies: [
                "sluice", "SluiceCore", "SluiceStore", "SluiceStoreSQLite", "SluiceTestSupport", "SluiceFakeProvider", "SluiceSpreadsheet",
            ]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + strict
}
