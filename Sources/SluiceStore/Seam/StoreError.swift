import Foundation
public import SluiceCore

/// Why a store operation was refused.
///
/// A driver's own error never reaches a client's eyes: its text can carry SQL and data. It is
/// kept in ``DriverError`` for the server's log only, and what is said is a sentence of ours.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case jobNotFound(String)
    /// The job's status does not allow the operation (for example pausing a finished job).
    case invalidTransition(jobID: String, from: JobStatus, action: String)
    /// Stored data could not be read back; names the job or item.
    case corrupt(String)
    /// The database is not ready to serve (unreachable, or its schema is behind).
    case notReady(String)
    /// The operation lost a race that trying again may win: a deadlock, a serialization
    /// failure, a busy database, a dropped connection.
    case retryable(DriverError)
    /// The operation contradicts what is stored: a duplicate key, a broken constraint, or a
    /// lease (of an upload being read) that another process now holds.
    case conflict(String, DriverError?)
    /// The database failed in a way trying again will not mend (a full disk, a broken file).
    case failed(DriverError)

    public var description: String {
        switch self {
        case .jobNotFound(let id): "job \(id) not found"
        case .invalidTransition(let id, let from, let action): "cannot \(action) job \(id): it is \(from.rawValue)"
        case .corrupt(let what): "stored data is unreadable: \(what)"
        case .notReady(let why): "the database is not ready: \(why)"
        case .retryable: "the database is busy; try again"
        case .conflict(let what, _): what
        case .failed: "the database failed; the server's log has the details"
        }
    }

    /// The driver's error behind this one, for the operator's log.
    public var driverError: DriverError? {
        switch self {
        case .retryable(let driver), .failed(let driver): driver
        case .conflict(_, let driver): driver
        default: nil
        }
    }

    /// Whether stored data could not be read back: a fault of the thing read, not of the database.
    public var isCorruption: Bool {
        if case .corrupt = self { return true }
        return false
    }

    /// Whether running the whole transaction again may succeed.
    public var isRetryable: Bool {
        if case .retryable = self { return true }
        return false
    }
}
