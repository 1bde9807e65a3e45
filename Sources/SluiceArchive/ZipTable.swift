public import SluiceCore

/// A zip upload: one table (CSV, JSON, JSON Lines or a workbook) and the files its rows name by
/// path, relative to the table's folder.
public struct ZipTable: Sendable {
    public let directory: ZipDirectory
    public let table: ZipEntry
    /// The table's format, by its name.
    public let format: InputFormat

    /// The most a table may unzip to (as a workbook's sheet may).
    public static let maxTableBytes = 1 << 30

    /// Finds the one table among the archive's files; folders that zip tools add
    /// (`__MACOSX/`) and hidden files are not candidates.
    public init(directory: ZipDirectory) throws(ZipError) {
        let tables = directory.names.filter { name in
            let parts = name.split(separator: "/")
            guard !parts.contains(where: { $0.hasPrefix(".") || $0 == "__MACOSX" }), let format = InputFormat(fileName: name) else {
                return false
            }
            return [.csv, .json, .jsonl, .xlsx].contains(format)
        }
        guard let name = tables.first, let format = InputFormat(fileName: name), let entry = directory.files[name] else {
            throw ZipError("the zip holds no table: it needs one .csv, .json, .jsonl or .xlsx file whose rows name its other files")
        }
        guard tables.count == 1 else {
            let listed = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
            throw ZipError("the zip holds \(tables.count) tables (\(listed)); it must hold one")
        }
        self.directory = directory
        table = entry
        self.format = format
    }

    /// The entry a row's `path` names, checked for sending inline: inside the archive, present,
    /// readable, and no larger than a provider takes. Its bytes are still to be read.
    public func image(at path: String) throws(ImagePart.Refusal) -> ZipEntry {
        try entry(at: path, limit: ImagePart.largestInline, what: "a provider takes inline")
    }

    /// The entry a row's `path` names: inside the archive, present, readable, and no larger
    /// than `limit` (`what` says whose limit it is).
    public func entry(at path: String, limit: Int, what: String) throws(ImagePart.Refusal) -> ZipEntry {
        guard let name = ZipPath.resolve(path, in: ZipPath.folder(of: table.name)) else {
            throw ImagePart.Refusal(description: "'\(path)' points outside the upload")
        }
        guard let entry = directory.files[name] else {
            throw ImagePart.Refusal(description: "'\(path)' is not in the upload (looked for \(name))")
        }
        if let reason = entry.unreadable { throw ImagePart.Refusal(description: reason) }
        guard entry.size <= limit else {
            throw ImagePart.Refusal(description: "'\(path)' is \(entry.size >> 20) MB, over the \(limit >> 20) MB \(what)")
        }
        return entry
    }

    /// The image in an entry's bytes (all of them, or at least its header's), known by its bytes.
    public static func probe(_ bytes: [UInt8], path: String) throws(ImagePart.Refusal) -> ImageProbe {
        guard let probe = ImageProbe(bytes) else {
            throw ImagePart.Refusal(description: "'\(path)' is no PNG, JPEG, GIF or WebP image (read by its bytes)")
        }
        return probe
    }
}
