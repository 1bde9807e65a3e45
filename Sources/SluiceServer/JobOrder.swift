import SluiceCore

/// A job as a route asks for it, before anything is kept: the one shape the native API, the
/// OpenAI Batch API, Anthropic's Message Batches and the web page all hand to
/// ``SluiceAPI/createJob(_:caller:)``.
struct JobOrder {
    /// What the job reads: a file received for it (in the spool), or a file kept earlier (a
    /// Files API upload) that the job takes a copy of, so it keeps its input if the file is deleted.
    enum Input {
        case received(ReceivedUpload.File, format: InputFormat)
        case copy(path: String, as: String, displayName: String, bytes: Int, format: InputFormat)

        var bytes: Int {
            switch self {
            case .received(let file, _): file.bytes
            case .copy(_, _, _, let bytes, _): bytes
            }
        }
    }

    var id: String
    var name: String
    var spec: JobSpec
    var inputs: [Input]
    var batch: BatchAttributes?
    /// Seconds from creation after which the job expires (a Batch API completion window).
    var expiresIn: Double?
}
