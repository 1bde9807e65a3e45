import Foundation
import SluiceCore
import Testing

/// Sluice's JSON parser against JSONTestSuite's 318 parsing cases (Tests/Fixtures/JSONTestSuite):
/// every `y_` accepted, every `n_` refused with a line and column inside the text, and every
/// `i_` answered one way or the other without crashing.
@Suite struct JSONTestSuiteTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/JSONTestSuite")

    static func cases(_ prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    @Test func theSuiteIsWhole() throws {
        #expect(try Self.cases("y_").count == 95)
        #expect(try Self.cases("n_").count == 188)
        #expect(try Self.cases("i_").count == 35)
    }

    @Test(arguments: try cases("y_")) func accepts(_ name: String) throws {
        #expect(throws: Never.self) { _ = try JSONParser.parse(try Self.bytes(name)) }
    }

    @Test(arguments: try cases("n_")) func refusesWithAPosition(_ name: String) throws {
        let bytes = try Self.bytes(name)
        do {
            let value = try JSONParser.parse(bytes)
            Issue.record("accepted \(name) as \(value)")
        } catch {
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            #expect(error.line >= 1 && error.line <= lines.count, "\(name): line \(error.line) of \(lines.count)")
            #expect(error.column >= 1 && error.column <= lines[error.line - 1].count + 1, "\(name): column \(error.column)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test(arguments: try cases("i_")) func decidesWithoutCrashing(_ name: String) throws {
        let bytes = try Self.bytes(name)
        if let value = try? JSONParser.parse(bytes) {
            // Whatever it accepted, it writes back as JSON it accepts again, unchanged.
            #expect(try JSONParser.parse(JSONWriter.bytes(value)) == value, "\(name)")
        }
    }
}
