import Foundation
import NIOCore
import SluiceArchive
import SluiceCore
import SluiceStorage
import Synchronization

/// Reads the images a zip upload's rows name by path, for their calls: the archive's directory
/// once per job (the last few jobs' kept), then each image's entry by its byte range — from this
/// machine's disk, or from the bucket uploads live in, never the whole archive.
final class JobFiles: Sendable {
    let storage: (any FileStorage)?
    /// Recently read archives' tables, by location, most recent last.
    private let tables = Mutex<[(location: String, table: ZipTable)]>([])
    static let keptTables = 4

    init(storage: (any FileStorage)?, claimBudget: Int) {
        self.storage = storage
        self.claimBudget = claimBudget
    }

    /// Whether `job`'s rows may name files: its one upload is a zip and its spec has images.
    static func named(by job: Job) -> Bool {
        !job.spec.images.isEmpty && job.sources.count == 1 && job.sources[0].format == .zip
    }

    /// The most image bytes one claim holds at once: past it, the claim's other items are left
    /// unread and go back unspent (20 MB photos times a claim of 64 would be 1.3 GB).
    let claimBudget: Int

    /// What each item's image cells name by path, read whole: the images by cell, or why one
    /// cannot be sent (that item then fails). Items past ``claimBudget`` are left out (the caller
    /// gives them back). Throws when the upload cannot be reached — the items are no worse for
    /// it and go back.
    func images(for items: [Item], job: Job) async throws -> [Int64: Result<[String: ImagePart.Source], ImagePart.Refusal>] {
        guard Self.named(by: job) else { return [:] }
        let location = job.sources[0].path
        let table: ZipTable
        do {
            table = try await self.table(at: location)
        } catch let damaged as ZipError {
            // It was read when the job was; nothing will read it now.
            return Dictionary(uniqueKeysWithValues: items.map { ($0.id, .failure(ImagePart.Refusal(description: damaged.description))) })
        }
        var read: [Int64: Result<[String: ImagePart.Source], ImagePart.Refusal>] = [:]
        var held = 0
        for item in items {
            // The first item is always read, whatever its size: a claim must make progress.
            guard held < claimBudget else { break }
            var images: [String: ImagePart.Source] = [:]
            read[item.id] = .success([:])
            for column in job.spec.images {
                guard let cell = item.input[column]?.plainText, !cell.allSatisfy(\.isWhitespace),
                    case .path(let path) = ImagePart.cell(cell), images[path] == nil
                else { continue }
                do {
                    let entry = try table.image(at: path)
                    let bytes = try await self.bytes(of: entry, at: location)
                    images[path] = .inline(try ZipTable.probe(bytes, path: path), bytes)
                    held += bytes.count
                } catch let refusal as ImagePart.Refusal {
                    read[item.id] = .failure(ImagePart.Refusal(description: "\(column): \(refusal.description)"))
                } catch let damaged as ZipError {
                    read[item.id] = .failure(
                        ImagePart.Refusal(description: "\(column): '\(path)' cannot be read from the upload: \(damaged.description)"))
                }
                if case .failure = read[item.id] { break }
            }
            if case .success = read[item.id] { read[item.id] = .success(images) }
        }
        return read
    }

    func table(at location: String) async throws -> ZipTable {
        if let kept = tables.withLock({ $0.first { $0.location == location }?.table }) { return kept }
        let size = try await size(of: location)
        let tail = ZipDirectory.tail(fileSize: size)
        var place = try ZipDirectory.locate(tail: try await read(location, tail), tailStart: tail.lowerBound, fileSize: size)
        if case .zip64Record(let range) = place {
            place = try ZipDirectory.locate(zip64Record: try await read(location, range), fileSize: size)
        }
        guard case .directory(let range, let count) = place else { throw ZipError("the archive is damaged") }
        let table = try ZipTable(directory: try ZipDirectory(directory: try await read(location, range), count: count, fileSize: size))
        tables.withLock { kept in
            kept.removeAll { $0.location == location }
            kept.append((location, table))
            if kept.count > Self.keptTables { kept.removeFirst() }
        }
        return table
    }

    /// An entry's unzipped bytes: its local header read first (for where its data starts), then its data.
    func bytes(of entry: ZipEntry, at location: String) async throws -> [UInt8] {
        let inflater = try ZipInflater(entry: entry, limit: ImagePart.largestInline)
        let header = try await read(location, entry.headerOffset..<entry.headerOffset + ZipEntry.localHeaderLength)
        let start = try entry.dataOffset(localHeader: header)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entry.size)
        let data = try await read(location, start..<start + entry.compressedSize)
        try data.withUnsafeBytes { try inflater.feed($0) { bytes += $0 } }
        try inflater.finish()
        return bytes
    }

    func size(of location: String) async throws -> Int {
        if let storage { return try await storage.size(of: location) }
        let attributes = try FileManager.default.attributesOfItem(atPath: location)
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    func read(_ location: String, _ range: Range<Int>) async throws -> [UInt8] {
        guard let storage else {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: location))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(range.lowerBound))
            let data = try handle.read(upToCount: range.count) ?? Data()
            guard data.count == range.count else { throw ZipError("the archive is cut short (it ends before byte \(range.upperBound))") }
            return [UInt8](data)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count)
        try await storage.read(location, range: range) { chunk in bytes += chunk.readableBytesView }
        guard bytes.count == range.count else { throw ZipError("the archive is cut short (it ends before byte \(range.upperBound))") }
        return bytes
    }
}
