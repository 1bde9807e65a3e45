import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceIngest

/// The PDFs in Examples/ and Tests/Fixtures (made by Tests/Fixtures/make-pdfs.py).
enum DocumentFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static func example(_ name: String) -> String { root.appendingPathComponent("Examples/\(name)").path }
    static func fixture(_ name: String) -> String { root.appendingPathComponent("Tests/Fixtures/\(name)").path }
}

@Suite struct DocumentChunkerTests {
    @Test func chunksEndAtParagraphsThenSentencesThenSpaces() {
        let text = "First paragraph here.\n\nSecond one is a little longer. It has two sentences.\n\nThird."
        let chunks = DocumentChunker.chunks(of: text, maxChars: 60)
        #expect(chunks == ["First paragraph here.\n\nSecond one is a little longer.", "It has two sentences.\n\nThird."])
        #expect(chunks.allSatisfy { $0.count <= 60 })
    }

    @Test func nothingIsLostOrRepeated() {
        let words = (0..<2000).map { "word\($0)" }
        let text = words.enumerated().map { $0.offset % 37 == 36 ? $0.element + ".\n\n" : $0.element + " " }.joined()
        let chunks = DocumentChunker.chunks(of: text, maxChars: 500)
        #expect(chunks.allSatisfy { $0.count <= 500 && !$0.isEmpty })
        let rejoined = chunks.joined(separator: " ").split(whereSeparator: { $0.isWhitespace || $0 == "." }).map(String.init)
        #expect(rejoined == words)
    }

    @Test func aTextWithNoBreakIsCutHard() {
        #expect(DocumentChunker.chunks(of: String(repeating: "x", count: 25), maxChars: 10) == ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"])
        #expect(DocumentChunker.chunks(of: "  \n\n ", maxChars: 10).isEmpty)
    }
}

@Suite struct PDFTextExtractorTests {
    let extractor = PDFTextExtractor()

    @Test func pdftotextIsInstalled() {
        #expect(extractor.executable != nil, "pdftotext is missing: apt-get install poppler-utils (scripts/test.sh does)")
    }

    @Test func readsTheTextOfAPDF() throws {
        let text = try extractor.text(ofFileAt: DocumentFixtures.example("water-treatment.pdf"))
        #expect(text.contains("Coagulation and flocculation come first."))
    }

    @Test(arguments: [
        ("encrypted.pdf", "is encrypted with a password"), ("image-only.pdf", "has no text to extract"),
        ("truncated.pdf", "cannot be read as a PDF (damaged, or not a PDF)"), ("make-pdfs.py", "cannot be read as a PDF"),
    ])
    func saysWhyADocumentHasNoText(file: String, reason: String) {
        #expect {
            try extractor.text(ofFileAt: DocumentFixtures.fixture(file))
        } throws: { error in
            (error as? PDFTextExtractor.Failure)?.message.contains(reason) == true
        }
    }

    @Test func aHangingExtractorIsStoppedAtItsTimeLimit() throws {
        let directory = TemporaryDirectory()
        // A stand-in for pdftotext that never answers: the limit, not the program, ends it.
        let script = directory.write("slow-pdftotext", "#!/bin/sh\nexec sleep 30\n")
        chmod(script, 0o755)
        let slow = PDFTextExtractor(executable: script, timeoutSeconds: 0.5)
        #expect(throws: PDFTextExtractor.Failure(message: "took longer than 0.5 s to read; it was given up")) {
            try slow.text(ofFileAt: DocumentFixtures.example("water-treatment.pdf"))
        }
    }

    @Test func aDocumentBecomesKeyedChunksOrOneFailure() throws {
        var options = InputOptions(textMode: .chunks, chunkChars: 500)
        let parser = try RecordParsers.open(
            path: DocumentFixtures.example("water-treatment.pdf"), name: "water.pdf", format: .pdf, options: options)
        var records: [JSONObject] = []
        while let step = try parser.next() {
            guard case .record(let record) = step else { Issue.record("\(step)"); continue }
            records.append(record.fields)
        }
        #expect(records.count >= 2)
        #expect(records.allSatisfy { $0["document"] == "water.pdf" && $0["parts"] == .int(records.count) })
        #expect(records.map { $0["part"] } == (1...records.count).map { .int($0) })
        options.textMode = .file
        let broken = try RecordParsers.open(
            path: DocumentFixtures.fixture("encrypted.pdf"), name: "locked.pdf", format: .pdf, options: options)
        #expect(try broken.next() == .failedDocument("locked.pdf is encrypted with a password; remove the password and upload it again"))
        #expect(try broken.next() == nil)
    }
}
