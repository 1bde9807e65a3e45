/// Paths inside an archive: an entry's name, or a path a table's cell gives, made one canonical
/// form so that they can be matched — and so that none can point outside the archive.
public enum ZipPath {
    /// `path` as a name inside the archive: backslashes read as slashes, `.` and empty parts
    /// dropped, `..` taking back the part before it. Relative to `folder` (the table's, ending
    /// in `/` or empty) unless it starts with `/`, which is the archive's root. Nil when it
    /// climbs out of the archive, or names nothing.
    public static func resolve(_ path: String, in folder: String = "") -> String? {
        let slashed = path.replacing("\\", with: "/")
        let base = slashed.hasPrefix("/") ? "" : folder
        var parts: [Substring] = []
        for part in (base + slashed).split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                guard parts.popLast() != nil else { return nil }
            default: parts.append(part)
            }
        }
        guard !parts.isEmpty else { return nil }
        return parts.joined(separator: "/") + (slashed.hasSuffix("/") ? "/" : "")
    }

    /// The folder of the entry `name`: `catalogue/` for `catalogue/items.csv`, empty at the root.
    public static func folder(of name: String) -> String {
        guard let slash = name.lastIndex(of: "/") else { return "" }
        return String(name[...slash])
    }
}
