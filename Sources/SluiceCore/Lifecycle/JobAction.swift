/// A change a caller asks of a job, and the statuses it may start from. Said once, here: each
/// driver's SQL guards its `UPDATE` with ``allowedFrom`` and refuses with ``verb``.
public enum JobAction: Sendable, CaseIterable {
    case appendItems, finishValidation, failValidation, restartValidation
    case cancel, pause, resume, retryFailed

    public var allowedFrom: [JobStatus] {
        switch self {
        case .appendItems, .finishValidation, .failValidation, .restartValidation: [.validating]
        case .cancel: JobStatus.allCases.filter { !$0.isFinal }
        case .pause: [.queued, .running, .paused]
        case .resume: [.paused]
        case .retryFailed: JobStatus.allCases.filter(\.isFinal)
        }
    }

    /// How a refusal names the action: "cannot \(verb) job …".
    public var verb: String {
        switch self {
        case .appendItems: "add items to"
        case .finishValidation: "finish validating"
        case .failValidation: "fail validation of"
        case .restartValidation: "restart validation of"
        case .cancel: "cancel"
        case .pause: "pause"
        case .resume: "resume"
        case .retryFailed: "retry the failed items of"
        }
    }
}
