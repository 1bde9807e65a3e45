import Foundation
import SluiceCore
import SluiceProviders
import SluiceStorage
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceEngine

/// A zip of a table and the photos its rows name, through ingest and the engine: each file is
/// checked as its row is read — inside the upload, present, an image by its bytes, within the
/// inline limit — and read whole, by its byte range, only for its call; a bad one fails its
/// row alone.
@Suite struct ZipJobTests {
    enum Kept: String, CaseIterable, CustomStringConvertible, Sendable {
        /// `sluice run`: the user's own file, no storage.
        case path
        case local, s3
        var description: String { rawValue }
        static var available: [Kept] { TestBucket.isAvailable ? [.path, .local, .s3] : [.path, .local] }
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/images")
        return Array(try Data(contentsOf: folder.appendingPathComponent(name).standardized))
    }

    static func upload() throws -> ZipBuilder {
        var zip = ZipBuilder()
        zip.add(
            "catalogue/products.csv",
            """
            id,name,photo
            0,mug,photos/mug.png
            1,cup,photos\\cup.jpg
            2,fake,photos/fake.jpg
            3,gone,photos/gone.png
            4,escape,../../etc/passwd
            5,logo,/shared/logo.gif
            6,web,https://x.test/web.jpg
            7,none,
            8,huge,photos/huge.png

            """)
        zip.add("catalogue/photos/mug.png", try fixture("picture.png"))
        zip.add("catalogue/photos/cup.jpg", try fixture("picture.jpg"), deflate: true)
        zip.add("catalogue/photos/fake.jpg", "not a picture at all, whatever its name says")
        zip.add("shared/logo.gif", try fixture("picture.gif"))
        var huge = ZipBuilder.Entry(name: "catalogue/photos/huge.png", data: try fixture("picture.png"))
        huge.declaredSize = 21 << 20
        zip.entries.append(huge)
        return zip
    }

    @Test(arguments: Kept.available)
    func eachRowsFileIsCheckedAtIngestAndSentInlineWithItsCall(kept: Kept) async throws {
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        let storage: (any FileStorage)? =
            switch kept {
            case .path: nil
            case .local: try LocalFileStorage(directory: directory.path("uploads"))
            case .s3: try TestBucket.storage(in: directory)
            }
        var location = directory.write("catalogue.zip", bytes: try Self.upload().bytes())
        if let storage {
            let spooled = storage.spoolDirectory + "/spool-catalogue.zip"
            try FileManager.default.copyItem(atPath: location, toPath: spooled)
            location = try await storage.keep(spooled: spooled, as: "uploads/u1/catalogue.zip")
        }
        let source = JobSource(path: location, displayName: "catalogue.zip", format: .zip)
        let spec = Fixtures.spec(["template": "Caption the {{name}}.", "images": "photo", "provider": "scripted", "model": "vision-1"])
        let created = try await harness.store.createJob(NewJob(owner: "alice", name: "photos", spec: spec, sources: [source]), now: Date())
        let queued = try await JobIngestor(store: harness.store, owner: "ingestor", storage: storage).takeAndIngest(jobID: created.id)
        #expect(queued.counts == JobCounts(total: 9, pending: 5, failed: 4))
        #expect(
            queued.errors == [
                JobErrorEntry(item: 2, message: "photo: 'photos/fake.jpg' is no PNG, JPEG, GIF or WebP image (read by its bytes)"),
                JobErrorEntry(item: 3, message: "photo: 'photos/gone.png' is not in the upload (looked for catalogue/photos/gone.png)"),
                JobErrorEntry(item: 4, message: "photo: '../../etc/passwd' points outside the upload"),
                JobErrorEntry(item: 8, message: "photo: 'photos/huge.png' is 21 MB, over the 20 MB a provider takes inline"),
            ])

        let provider = ScriptedProvider(name: "scripted") { _, _ throws(ProviderFailure) in "a caption" }
        let done = try await harness.withRunning(harness.worker([provider], storage: storage)) {
            try await waitForJob(harness.store, created.id, until: { $0.status.isFinal })
        }
        #expect(done.counts.succeeded == 5)
        let seen = Dictionary(
            uniqueKeysWithValues: provider.requests.map { request in
                (request.messages.last?.content ?? "", request.messages.last?.images.map(\.source) ?? [])
            })
        #expect(seen.count == 5)
        #expect(seen["Caption the mug."] == [.inline(ImageProbe(format: .png, width: 37, height: 23), try Self.fixture("picture.png"))])
        #expect(seen["Caption the cup."] == [.inline(ImageProbe(format: .jpeg, width: 37, height: 23), try Self.fixture("picture.jpg"))])
        #expect(seen["Caption the logo."] == [.inline(ImageProbe(format: .gif, width: 37, height: 23), try Self.fixture("picture.gif"))])
        #expect(seen["Caption the web."] == [.url("https://x.test/web.jpg")])
        #expect(seen["Caption the none."] == [])
    }

    /// Damage only a full read finds (a CRC that does not match, past the first 256 KB that
    /// ingest reads for the image's header) fails the row at its call, with the reason, and
    /// the others go on.
    @Test func anEntryDamagedPastItsHeaderFailsItsRowAtTheCall() async throws {
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        var zip = ZipBuilder()
        zip.add("rows.csv", "name,photo\nmug,mug.png\ncup,cup.png\n")
        zip.add("mug.png", try Self.fixture("picture.png"))
        // Bytes after a PNG's end are no part of it: the file is an image still, of 300 KB.
        var damaged = ZipBuilder.Entry(name: "cup.png", data: try Self.fixture("picture.png") + [UInt8](repeating: 7, count: 300 << 10))
        damaged.crc = 7
        zip.entries.append(damaged)
        let source = JobSource(path: directory.write("rows.zip", bytes: zip.bytes()), displayName: "rows.zip", format: .zip)
        let spec = Fixtures.spec(["template": "Caption the {{name}}.", "images": "photo", "provider": "scripted", "model": "vision-1"])
        let created = try await harness.store.createJob(NewJob(owner: "alice", name: "photos", spec: spec, sources: [source]), now: Date())
        let queued = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: created.id)
        #expect(queued.counts == JobCounts(total: 2, pending: 2))
        let provider = ScriptedProvider(name: "scripted") { _, _ throws(ProviderFailure) in "a caption" }
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, created.id, until: { $0.status.isFinal })
        }
        #expect(done.counts == JobCounts(total: 2, succeeded: 1, failed: 1))
        let items = try await harness.store.items(jobID: created.id, status: .failed, afterIndex: -1, limit: 10)
        #expect(
            items.map(\.error) == ["photo: 'cup.png' cannot be read from the upload: the archive is damaged (cup.png fails its CRC check)"])
        #expect(provider.requests.map { $0.messages.last?.content } == ["Caption the mug."])
    }

    /// A claim holds at most its budget of image bytes: the items past it go back unspent and
    /// run in later claims, none failing and none spending an attempt for it.
    @Test func aClaimHoldsNoMoreImageBytesThanItsBudget() async throws {
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        var zip = ZipBuilder()
        zip.add("rows.csv", "name,photo\n" + (0..<6).map { "p\($0),\($0).png\n" }.joined())
        for number in 0..<6 { zip.add("\(number).png", try Self.fixture("picture.png")) }
        let source = JobSource(path: directory.write("rows.zip", bytes: zip.bytes()), displayName: "rows.zip", format: .zip)
        let spec = Fixtures.spec(["template": "Caption {{name}}.", "images": "photo", "provider": "scripted"])
        let created = try await harness.store.createJob(NewJob(owner: "alice", name: "photos", spec: spec, sources: [source]), now: Date())
        let queued = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: created.id)
        let items = try await harness.items(created.id)
        #expect(try await JobFiles(storage: nil, claimBudget: 1).images(for: items, job: queued).count == 1, "the first, then none")
        #expect(try await JobFiles(storage: nil, claimBudget: .max).images(for: items, job: queued).count == 6)
        let provider = ScriptedProvider(name: "scripted") { _, _ throws(ProviderFailure) in "a caption" }
        var configuration = EngineHarness.configuration(concurrency: 4)
        configuration.claimImageBytes = 1
        let worker = Worker(
            store: harness.store, providers: ProviderRegistry(entries: [ProviderEntry(provider, breaker: .init(failureThreshold: .max))]),
            configuration: configuration)
        let done = try await harness.withRunning(worker) {
            try await waitForJob(harness.store, created.id, until: { $0.status.isFinal })
        }
        #expect(done.counts == JobCounts(total: 6, succeeded: 6))
        #expect(try await harness.items(created.id).map(\.attempts) == Array(repeating: 1, count: 6))
        #expect(provider.requests.count == 6)
    }

    /// A documents column: each row's PDF (through pdftotext) or text file becomes its field's
    /// text as the row is read; a file that is neither, missing, or a PDF without text fails
    /// its row alone, with the reason.
    @Test func aDocumentsColumnReadsEachRowsFileIntoItsText() async throws {
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        var zip = ZipBuilder()
        zip.add(
            "rows.csv",
            "name,contract\nwater,docs/water.pdf\nnotes,docs/notes.txt\nblob,docs/blob.bin\ngone,docs/gone.pdf\nscan,docs/scan.pdf\nnone,\n"
        )
        zip.add("docs/water.pdf", Array(try Data(contentsOf: root.appendingPathComponent("Examples/water-treatment.pdf"))), deflate: true)
        zip.add("docs/notes.txt", "Clause 1: pay on time.")
        zip.add("docs/blob.bin", [0x00, 0xFF, 0x10, 0x80])
        zip.add("docs/scan.pdf", Array(try Data(contentsOf: root.appendingPathComponent("Tests/Fixtures/image-only.pdf"))))
        let source = JobSource(path: directory.write("rows.zip", bytes: zip.bytes()), displayName: "rows.zip", format: .zip)
        let spec = Fixtures.spec(["template": "Summarise {{name}}: {{contract}}", "documents": "contract"])
        let created = try await harness.store.createJob(NewJob(owner: "alice", name: "docs", spec: spec, sources: [source]), now: Date())
        let queued = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: created.id)
        #expect(queued.counts == JobCounts(total: 6, pending: 3, failed: 3))
        #expect(
            queued.errors.map(\.message) == [
                "contract: 'docs/blob.bin' is neither a PDF nor UTF-8 text (read by its bytes)",
                "contract: 'docs/gone.pdf' is not in the upload (looked for docs/gone.pdf)",
                "contract: 'docs/scan.pdf' has no text to extract (scanned or image-only pages? run OCR on it first)",
            ])
        let items = try await harness.items(created.id)
        #expect(items[0].input["contract"]?.stringValue?.contains("Coagulation and flocculation come first.") == true)
        #expect(items[1].input["contract"] == "Clause 1: pay on time.")
        #expect(items[5].input["contract"] == "", "an empty cell is no document")
        let request = try PromptBuilder(spec: spec).request(for: items[1].input)
        #expect(request.messages.last?.content == "Summarise notes: Clause 1: pay on time.")
    }

    /// A zip is the job's one upload: its rows' paths could not say which file they mean otherwise.
    @Test func aZipMustBeTheJobsOnlyFile() async throws {
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        var zip = ZipBuilder()
        zip.add("rows.csv", "name\nmug\n")
        let sources = [
            JobSource(path: directory.write("rows.zip", bytes: zip.bytes()), displayName: "rows.zip", format: .zip),
            JobSource(path: directory.write("more.csv", "name\ncup\n"), displayName: "more.csv", format: .csv),
        ]
        let spec = Fixtures.spec(["template": "Caption the {{name}}."])
        let created = try await harness.store.createJob(NewJob(owner: "alice", name: "two", spec: spec, sources: sources), now: Date())
        let failed = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: created.id)
        #expect(failed.status == .failed)
        #expect(
            failed.errors == [
                JobErrorEntry(file: "rows.zip", message: "a .zip upload must be the job's only file (its rows name files inside it)")
            ])
    }
}
