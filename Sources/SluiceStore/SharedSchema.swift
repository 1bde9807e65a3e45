/// Schema statements whose text is the same on every driver: written once, applied by each
/// driver's migration of the same name.
public enum SharedSchema {
    /// Each provider's shared schedule (see ``PaceStore``): when the next call and the next
    /// token are free, in seconds since 1970, and the holds a 429 or an opened circuit put on it.
    public static let providerPace = """
        CREATE TABLE provider_pace (
            provider TEXT PRIMARY KEY,
            request_due DOUBLE PRECISION NOT NULL DEFAULT 0,
            token_due DOUBLE PRECISION NOT NULL DEFAULT 0,
            blocked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            circuit_open_until DOUBLE PRECISION NOT NULL DEFAULT 0
        )
        """
}
