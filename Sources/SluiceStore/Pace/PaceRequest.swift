import Foundation

/// A block of calls to book.
public struct PaceRequest: Sendable, Equatable {
    public var provider: String
    public var calls: Int
    /// Tokens the block is expected to use, plus any correction for earlier blocks whose calls
    /// used more (or fewer) than they reserved; may be negative.
    public var tokens: Double
    /// Seconds between two calls' starts (`60 / RPM`); 0 without a request limit.
    public var secondsPerCall: Double
    /// Seconds a token takes to pay off (`60 / TPM`); 0 without a token limit.
    public var secondsPerToken: Double

    public init(provider: String, calls: Int, tokens: Double, secondsPerCall: Double, secondsPerToken: Double) {
        self.provider = provider
        self.calls = calls
        self.tokens = tokens
        self.secondsPerCall = secondsPerCall
        self.secondsPerToken = secondsPerToken
    }
}
