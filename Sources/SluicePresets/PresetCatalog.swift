public import Foundation
public import SluiceCore

/// The presets shipped with Sluice as JSON files (`Presets/*.json` in this module's bundle).
///
/// Presets are data, so adding one is adding a file; every shipped file is checked by a test
/// to parse into a valid spec.
public struct PresetCatalog: Sendable {
    public let presets: [Preset]

    /// Loads the shipped presets; a malformed file is an error naming it, never skipped.
    public static func shipped() throws -> PresetCatalog {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Presets"),
            let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else {
            throw PresetError(file: "Presets", message: "the preset folder is missing from the bundle")
        }
        let files = names.filter { $0.hasSuffix(".json") }.sorted().map { folder.appendingPathComponent($0) }
        return try PresetCatalog(files: files)
    }

    public init(files: [URL]) throws {
        presets = try files.map { url in
            let data = try Data(contentsOf: url)
            let json: JSONValue
            do {
                json = try JSONParser.parse(data)
            } catch let error as JSONParser.Failure {
                throw PresetError(file: url.lastPathComponent, message: "line \(error.line): \(error.message)")
            }
            guard let name = json["name"]?.stringValue, let description = json["description"]?.stringValue,
                case .object? = json["spec"]
            else {
                throw PresetError(file: url.lastPathComponent, message: "needs \"name\", \"description\" and a \"spec\" object")
            }
            return Preset(name: name, description: description, spec: json["spec"]!)
        }
    }

    public subscript(name: String) -> Preset? { presets.first { $0.name == name } }

    /// The lookup ``JobSpec/parse(_:preset:)`` takes.
    public func specJSON(named name: String) -> JSONValue? { self[name]?.spec }
}
