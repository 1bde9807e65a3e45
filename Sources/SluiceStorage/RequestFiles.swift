import NIOFileSystem
import NIOPosix
public import _NIOFileSystem

/// The file system requests read and write through: uploads arriving, downloads leaving, files
/// kept and read back. Its own threads, more than NIO's shared pool (one per core), where two
/// users' large uploads syncing to disk held both threads and every other user's small upload
/// waited its turn behind them. Work that parses or unzips runs elsewhere (`BlockingWork`).
public enum RequestFiles {
    public static let fileSystem: FileSystem = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return FileSystem(threadPool: pool)
    }()
}
