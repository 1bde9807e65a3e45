/// Why a ZIP archive, or an entry of it, cannot be read: said so a person can act on it.
public struct ZipError: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
