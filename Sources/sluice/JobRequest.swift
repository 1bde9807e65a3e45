import ArgumentParser
import Foundation
import SluiceCore
import SluicePresets

/// What a command line asks to run: a resolved spec and the files to read, checked before
/// anything is stored.
struct JobRequest {
    var spec: JobSpec
    var sources: [JobSource]

    /// The options' spec, resolved here with this machine's presets and providers, and their
    /// files, each of a format its name (or the spec) tells.
    init(options: JobOptions, configuration: SluiceConfiguration) throws {
        let catalog = try PresetCatalog.shipped()
        let json = try options.specJSON()
        let spec: JobSpec
        do {
            spec = try SpecResolver(catalog: catalog, configuration: configuration).resolve(json)
        } catch {
            throw ValidationError("invalid spec: \(error)")
        }
        self.spec = spec
        sources = try options.files.map { file in
            let name = URL(fileURLWithPath: file).lastPathComponent
            guard let format = spec.input.format ?? InputFormat(fileName: name) else {
                throw ValidationError(
                    "cannot tell the format of \(name) from its name; set input.format (csv, json, jsonl, text) in the spec")
            }
            return JobSource(path: URL(fileURLWithPath: file).standardizedFileURL.path, displayName: name, format: format)
        }
    }

    /// Names this exact run — spec and files as they are now — so running the same command
    /// again finds the job and resumes it. A changed file (size or time) makes a new job; a
    /// changed budget does not, so the same command with a higher cap resumes a job it paused.
    func fingerprint() -> String {
        var spec = spec
        spec.budget = nil
        let files: [JSONValue] = sources.map { source in
            let attributes = try? FileManager.default.attributesOfItem(atPath: source.path)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return ["path": .string(source.path), "size": .int(size), "modified": .double(modified)]
        }
        return JSONWriter.string(["spec": spec.json, "files": .array(files)])
    }

    var defaultName: String {
        spec.name ?? sources.map(\.displayName).joined(separator: ", ")
    }
}

/// What a job is made of on the command line: its files and its spec — a preset or a spec file,
/// and single fields over it. The same for `sluice run` and `sluice submit`.
struct JobOptions: ParsableArguments {
    @Argument(help: "Input files (CSV, JSON, JSONL, text, .xlsx or PDF); all of them form one job.")
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
