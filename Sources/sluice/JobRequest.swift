import ArgumentParser
import Foundation
import SluiceCore
import SluicePresets

/// What a command line asks to run: a resolved spec and the files to read, checked before
/// anything is stored.
struct JobRequest {
    var spec: JobSpec
    var sources: [JobSource]

    /// `overrides` are spec members given on the command line; they win over the preset's and
    /// the spec file's, and `fields` merge with the file's.
    init(files: [String], preset: String?, specFile: String?, overrides: JSONObject = JSONObject(), configuration: SluiceConfiguration)
        throws
    {
        let catalog = try PresetCatalog.shipped()
        var json: JSONValue
        switch (preset, specFile) {
        case (let name?, nil):
            json = ["preset": .string(name)]
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the spec file \(path)")
            }
            do {
                json = try JSONParser.parse(data)
            } catch {
                throw ValidationError("\(path): line \(error.line), column \(error.column): \(error.message)")
            }
        case (let name?, let path?):
            throw ValidationError("give either --preset \(name) or --spec \(path), not both")
        case (nil, nil):
            throw ValidationError("give --preset NAME or --spec FILE.json (see `sluice presets`)")
        }
        if case .object(let base) = json, !overrides.isEmpty { json = .object(JobSpec.merge(base: base, overrides: overrides)) }
        let spec: JobSpec
        do {
            spec = try SpecResolver(catalog: catalog, configuration: configuration).resolve(json)
        } catch {
            throw ValidationError("invalid spec: \(error)")
        }
        self.spec = spec
        sources = try files.map { file in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("no such file: \(file)")
            }
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
