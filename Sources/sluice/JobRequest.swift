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
            guard let format = InputFormat.of(named: InputFormat(fileName: name), declared: spec.input.format) else {
                throw ValidationError(
                    "cannot tell the format of \(name) from its name; set input.format (csv, json, jsonl, text, xlsx, pdf) in the spec")
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
