import Foundation

public enum UploadPartAdmission: Sendable, Equatable {
    case added
    /// The upload is not pending (or has expired).
    case closed(StoredUpload.Status)
    /// The parts would hold more than the upload's declared bytes.
    case tooLarge(received: Int)
}
