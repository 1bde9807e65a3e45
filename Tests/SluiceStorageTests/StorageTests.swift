import Crypto
import Foundation
import NIOCore
import SluiceStorage
import SluiceTestSupport
import Testing

/// AWS's worked examples of Signature Version 4 for S3 (the "Examples" of its documentation).
@Suite struct SigV4Tests {
    let signer = SigV4(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    let date = Date(timeIntervalSince1970: 1_369_353_600)  // 20130524T000000Z
    let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    @Test func getObjectWithARange() {
        let headers = signer.sign(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", query: [], headers: [("Range", "bytes=0-9")],
            payloadHash: emptyHash, date: date)
        #expect(
            headers.first { $0.0 == "Authorization" }?.1 == """
                AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41
                """)
        #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
    }

    @Test func listObjectsWithAQuery() {
        let headers = signer.sign(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/", query: [("prefix", "J"), ("max-keys", "2")], headers: [],
            payloadHash: emptyHash, date: date)
        #expect(
            headers.first { $0.0 == "Authorization" }?.1.hasSuffix(
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
    }

    @Test func encodesAsAWSDoes() {
        #expect(SigV4.encode("a b/c~d*é") == "a%20b%2Fc~d%2A%C3%A9")
        #expect(SigV4.encode("files/x y.csv", keepSlash: true) == "files/x%20y.csv")
    }
}

/// The storages the suite runs against: a local folder always, and an S3-compatible server
/// when `SLUICE_TEST_S3` names one (the test script starts moto), in bucket
/// `SLUICE_TEST_S3_BUCKET` with `AWS_*` credentials from the environment.
enum StorageKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case local, s3
    var description: String { rawValue }

    static var available: [StorageKind] { TestBucket.isAvailable ? [.local, .s3] : [.local] }

    func make(in directory: TemporaryDirectory) throws -> any FileStorage {
        switch self {
        case .local: return try LocalFileStorage(directory: directory.path("uploads"))
        case .s3: return try TestBucket.storage(in: directory)
        }
    }
}

@Suite struct FileStorageTests {
    func spool(_ storage: any FileStorage, _ name: String, _ bytes: [UInt8]) throws -> String {
        let path = storage.spoolDirectory + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func contents(_ storage: any FileStorage, _ location: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await storage.read(location) { bytes += Array($0.readableBytesView) }
        return bytes
    }

    @Test(arguments: StorageKind.available)
    func keptFilesAreReadCopiedAndRemoved(kind: StorageKind) async throws {
        let directory = TemporaryDirectory()
        let storage = try kind.make(in: directory)
        let text = Array("id,text\n1,héllo\n".utf8)
        let location = try await storage.keep(spooled: try spool(storage, "files/f1/0-in.csv", text), as: "files/f1/0-in.csv")
        #expect(try await contents(storage, location) == text)
        #expect(try await storage.size(of: location) == text.count)
        let copy = try await storage.copy(location, to: "batch_1/input.csv")
        let local = try await storage.withLocalFile(copy) { path in FileManager.default.contents(atPath: path).map(Array.init) }
        #expect(local == text)
        try await storage.remove(folder: "files/f1")
        await #expect(throws: StorageError.self) { _ = try await contents(storage, location) }
        await #expect(throws: StorageError.self) { _ = try await storage.size(of: location) }
        #expect(try await contents(storage, copy) == text, "a copy outlives its original")
        try await storage.remove(folder: "files/never-there")
    }

    @Test(arguments: StorageKind.available)
    func aLargeFileGoesUpInPartsAndComesBackWhole(kind: StorageKind) async throws {
        let directory = TemporaryDirectory()
        let storage = try kind.make(in: directory)
        // 200 MB written a MiB at a time, each MiB different, so parts out of order would show.
        let path = storage.spoolDirectory + "/big/0-big.jsonl"
        try FileManager.default.createDirectory(atPath: storage.spoolDirectory + "/big", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        var written = SHA256()
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in 0..<200 {
            for offset in stride(from: 0, to: block.count, by: 4096) { block[offset] = UInt8(truncatingIfNeeded: index &+ offset >> 12) }
            written.update(data: block)
            try handle.write(contentsOf: block)
        }
        try handle.close()
        let location = try await storage.keep(spooled: path, as: "big/0-big.jsonl")
        var read = SHA256()
        var count = 0
        try await storage.read(location) { chunk in
            read.update(data: Array(chunk.readableBytesView))
            count += chunk.readableBytes
        }
        #expect(count == 200 << 20)
        #expect(Array(read.finalize()) == Array(written.finalize()))
        try await storage.remove(folder: "big")
    }
}

/// `--uploads s3://…`: each bad form refused with what is missing, never with a key.
@Suite struct S3LocationTests {
    let keys = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-never-shown"]

    @Test(arguments: [
        ("/var/uploads", "expected s3://BUCKET/PREFIX"),
        ("s3:///prefix", "expected s3://BUCKET/PREFIX"),
    ])
    func refusesURLsWithoutABucket(url: String, message: String) {
        let directory = TemporaryDirectory()
        #expect(throws: StorageError(message + ", not \(url)")) {
            _ = try S3FileStorage(url: url, environment: keys, spoolDirectory: directory.path("spool"))
        }
    }

    @Test func refusesMissingKeysAndABadEndpoint() {
        let directory = TemporaryDirectory()
        #expect(throws: StorageError("s3:// uploads need AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")) {
            _ = try S3FileStorage(url: "s3://b/p", environment: ["AWS_ACCESS_KEY_ID": "x"], spoolDirectory: directory.path("spool"))
        }
        #expect(throws: StorageError("AWS_ENDPOINT_URL is not a URL")) {
            _ = try S3FileStorage(
                url: "s3://b/p", environment: keys.merging(["AWS_ENDPOINT_URL": "not a url"]) { $1 },
                spoolDirectory: directory.path("spool"))
        }
    }

    @Test func readsBucketPrefixAndRegion() throws {
        let directory = TemporaryDirectory()
        let storage = try S3FileStorage(
            url: "s3://acme-sluice/uploads/prod/", environment: keys.merging(["AWS_REGION": "eu-west-1"]) { $1 },
            spoolDirectory: directory.path("spool"))
        #expect(storage.bucket == "acme-sluice")
        #expect(storage.prefix == "uploads/prod")
    }
}
