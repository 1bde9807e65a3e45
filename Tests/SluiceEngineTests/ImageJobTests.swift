import Foundation
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

/// A table of rows with photos, through ingest and the engine: each row's image reaches the
/// provider after its prompt, and a row whose cell is no image fails alone.
@Suite struct ImageJobTests {
    @Test func eachRowsImageGoesWithItsCallAndABadCellFailsItsRowAlone() async throws {
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        let dataURI = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAA="
        let csv = """
            id,name,photo
            0,mug,https://x.test/mug.jpg
            1,cup,"\(dataURI)"
            2,jar,jar.jpg
            3,bowl,

            """
        let source = JobSource(path: directory.write("rows.csv", csv), displayName: "rows.csv", format: .csv)
        let spec = Fixtures.spec(["template": "Caption the {{name}}.", "images": "photo", "provider": "scripted", "model": "vision-1"])
        let created = try await harness.store.createJob(NewJob(owner: "alice", name: "photos", spec: spec, sources: [source]), now: Date())
        let queued = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: created.id)
        #expect(queued.counts == JobCounts(total: 4, pending: 3, failed: 1))
        #expect(
            queued.errors == [
                JobErrorEntry(
                    item: 2,
                    message:
                        "photo: 'jar.jpg' is neither an http(s) URL nor a data: URI (a file's path needs the file uploaded with the table, in a .zip)"
                )
            ])

        let provider = ScriptedProvider(name: "scripted") { _, _ throws(ProviderFailure) in "a caption" }
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, created.id, until: { $0.status.isFinal })
        }
        #expect(done.status == .completedWithErrors)
        #expect(done.counts.succeeded == 3)
        let seen = Dictionary(
            uniqueKeysWithValues: provider.requests.map { request in
                (request.messages.last?.content ?? "", request.messages.last?.images.map(\.source) ?? [])
            })
        #expect(seen["Caption the mug."] == [.url("https://x.test/mug.jpg")])
        #expect(seen["Caption the cup."]?.count == 1)
        if case .inline(let probe, _)? = seen["Caption the cup."]?.first {
            #expect(probe == ImageProbe(format: .png, width: 2, height: 1))
        } else {
            Issue.record("the data: URI went inline: \(String(describing: seen["Caption the cup."]))")
        }
        #expect(seen["Caption the bowl."] == [], "an empty cell: no image")
        #expect(seen["Caption the jar."] == nil, "the refused row was never sent")
    }

    /// The offline provider reads what it can of a row's images — an inline image's format and
    /// size from its header — says a URL was not fetched, and answers with them.
    @Test func theOfflineProviderDescribesTheImagesItCanRead() async throws {
        let png: [UInt8] =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 37, 0, 0, 0, 23, 8, 2, 0, 0, 0]
        let spec = Fixtures.spec(["template": "Describe the {{name}}.", "images": ["photo", "link"]])
        let input = JSONObject([
            ("name", "red mug"), ("photo", .string("data:image/png;base64," + Data(png).base64EncodedString())),
            ("link", "https://shop.test/mug.jpg"),
        ])
        let request = try PromptBuilder(spec: spec).request(for: input)
        let reply = try await BuiltinProvider().complete(request)
        #expect(reply.text.hasPrefix("[offline] Sentiment:"))
        #expect(
            reply.text.hasSuffix(
                " Images: a PNG image of 37 × 23 pixels, its pixels not readable here; an image at shop.test, not fetched (the offline provider uses no network)."
            ),
            "\(reply.text)")
    }

    static let colours: [(String, String)] = [
        ("picture.png", "a PNG image of 37 × 23 pixels, mostly #c81e1e (70%), #1428dc (30%)"),
        ("picture-palette.png", "a PNG image of 37 × 23 pixels, mostly #c81e1e (70%), #1428dc (30%)"),
        ("picture-transparent.png", "a PNG image of 37 × 23 pixels, mostly #c81e1e (53%), #1428dc (47%)"),
        ("picture-grey16.png", "a PNG image of 37 × 23 pixels, mostly #515151 (70%), #373737 (30%)"),
        ("picture.gif", "a GIF image of 37 × 23 pixels, mostly #c81e1e (70%), #1428dc (30%)"),
        ("picture-progressive.jpg", "a JPEG image of 37 × 23 pixels, its colours not read (the offline provider decodes PNG and GIF only)"),
    ]

    /// The offline provider reads a PNG's or GIF's pixels — palette, 16-bit grey, transparent
    /// pixels left out, GIF's LZW — for the colours an image mostly is (files a real encoder wrote).
    @Test(arguments: colours)
    func theOfflineProviderSaysWhatColoursAnImageMostlyIs(file: String, description: String) async throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/images")
        let bytes = try Data(contentsOf: folder.appendingPathComponent(file).standardized)
        let spec = Fixtures.spec(["template": "Describe it.", "images": "photo"])
        let request = try PromptBuilder(spec: spec).request(
            for: JSONObject([("photo", .string("data:image/png;base64," + bytes.base64EncodedString()))]))
        let reply = try await BuiltinProvider().complete(request)
        #expect(reply.text.hasSuffix(" Images: \(description)."), "\(reply.text)")
    }
}
