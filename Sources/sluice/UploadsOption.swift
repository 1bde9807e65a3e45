import ArgumentParser
import Foundation
import SluiceStorage

/// `--uploads`, declared once for the processes that keep uploads (`serve`) or read them
/// (`serve` and `worker`): every process on one database must name the same place.
struct UploadsOption: ParsableArguments {
    @Option(
        help: """
            Where uploads are kept: a folder (default: the SQLite path with .uploads, or sluice.uploads), or \
            s3://BUCKET/PREFIX in any S3-compatible store (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). \
            Every API and worker process on one database must name the same place.
            """)
    var uploads: String?

    /// The folder, or the bucket, `--uploads` names. A bucket's uploads are spooled in a folder
    /// of this machine's temporary directory while they arrive.
    func storage(for database: DatabaseOption) throws -> any FileStorage {
        let target = uploads ?? database.defaultUploadDirectory
        do {
            guard target.hasPrefix("s3://") else { return try LocalFileStorage(directory: target) }
            // A folder of its own, made with a name nobody can guess and mode 0700 (`mkdtemp`):
            // a predictable /tmp path could be made first, or read, by another local user.
            var template = Array((FileManager.default.temporaryDirectory.path + "/sluice-spool-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else {
                throw ValidationError("--uploads: cannot make a spool folder in the temporary directory")
            }
            let spool = String(cString: made)
            return try S3FileStorage(url: target, environment: ProcessInfo.processInfo.environment, spoolDirectory: spool)
        } catch let error as StorageError {
            throw ValidationError("--uploads: \(error)")
        }
    }
}
