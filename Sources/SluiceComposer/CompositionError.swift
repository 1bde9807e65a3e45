/// A process asked for with a part missing: a mistake in the code that builds it, not a user's.
public struct CompositionError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
