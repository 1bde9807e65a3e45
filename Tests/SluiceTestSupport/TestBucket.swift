import Foundation
public import SluiceStorage

/// The S3-compatible server tests share: `SLUICE_TEST_S3` is its endpoint (the test script
/// starts moto there), `SLUICE_TEST_S3_BUCKET` the bucket (default `sluice-test`), and the
/// `AWS_*` credentials come from the environment.
public enum TestBucket {
    public static var isAvailable: Bool { ProcessInfo.processInfo.environment["SLUICE_TEST_S3"] != nil }

    /// A storage under a prefix of its own in the bucket, spooling in `directory`.
    public static func storage(in directory: TemporaryDirectory) throws -> S3FileStorage {
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ENDPOINT_URL"] = environment["SLUICE_TEST_S3"]
        let bucket = environment["SLUICE_TEST_S3_BUCKET"] ?? "sluice-test"
        return try S3FileStorage(
            url: "s3://\(bucket)/run-\(UUID().uuidString)", environment: environment, spoolDirectory: directory.path("spool"))
    }
}
