import ArgumentParser
import Foundation
import SluiceCore
import SluicePresets

/// What a job is made of on the command line: its files and its spec — a preset or a spec file,
/// and single fields over it. The same for `sluice run` and `sluice submit`.
struct JobOptions: ParsableArguments {
    @Argument(
        help: "Input files (CSV, JSON, JSONL, text, .xlsx or PDF, or one .zip of a table and the files it names); all of them form one job."
    )
    var files: [String]

    @Option(help: "A preset (see `sluice presets`).")
    var preset: String?

    @Option(name: .customLong("spec"), help: "A job spec as a JSON file.")
    var specFile: String?

    @OptionGroup var specOptions: SpecOptions

    func validate() throws {
        for file in files {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("no such file: \(file)")
            }
        }
    }

    /// The spec's JSON form, unresolved: the preset's name or the spec file's object, with the
    /// options' fields over it (they win, and `fields` merge with the file's).
    func specJSON() throws -> JSONValue {
        var spec: JSONObject
        switch (preset, specFile) {
        case (let name?, nil):
            spec = JSONObject([("preset", .string(name))])
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read the spec file \(path)") }
            let json: JSONValue
            do {
                json = try JSONParser.parse(data)
            } catch {
                throw ValidationError("\(path): line \(error.line), column \(error.column): \(error.message)")
            }
            guard case .object(let object) = json else { throw ValidationError("\(path) must hold a JSON object") }
            spec = object
        case (let name?, let path?):
            throw ValidationError("give either --preset \(name) or --spec \(path), not both")
        case (nil, nil):
            throw ValidationError("give --preset NAME or --spec FILE.json (see `sluice presets`)")
        }
        return .object(JobSpec.merge(base: spec, overrides: specOptions.overrides))
    }
}
