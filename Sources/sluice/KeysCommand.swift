import ArgumentParser
import Foundation
import Logging
import SluiceCore
import SluiceServer
import SluiceStore

/// `sluice keys`: API keys for `sluice serve --auth required`, stored only as hashes.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Create, list and revoke API keys.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key for a user; the secret is printed once, never stored.")
        @Option(help: "The user the key acts as; jobs and files belong to users.")
        var user: String
        @Flag(help: "The key may see and manage every user's jobs.")
        var admin = false
        @Option(help: "The key's share of the provider's calls against other users' (1–100; a key of weight 3 gets 3 calls for 1).")
        var weight = 1
        @Option(help: "The most tokens (prompt plus completion) the key's jobs may spend per UTC day.")
        var tokensPerDay: Int64?
        @Option(help: "The most tokens the key's jobs may spend per UTC month.")
        var tokensPerMonth: Int64?
        @Option(help: "The most US dollars the key's jobs may spend per UTC day (priced from the configuration).")
        var usdPerDay: Double?
        @Option(help: "The most US dollars the key's jobs may spend per UTC month.")
        var usdPerMonth: Double?
        @OptionGroup var options: DatabaseOption

        func validate() throws {
            guard !user.isEmpty, user.count <= 100, !user.contains(where: \.isWhitespace) else {
                throw ValidationError("--user must be 1–100 characters without spaces")
            }
            guard (1...APIKeyRecord.maxWeight).contains(weight) else {
                throw ValidationError("--weight must be a whole number from 1 to \(APIKeyRecord.maxWeight)")
            }
            for (name, value) in [("--tokens-per-day", tokensPerDay), ("--tokens-per-month", tokensPerMonth)] {
                if let value, value <= 0 { throw ValidationError("\(name) must be a positive number of tokens") }
            }
            for (name, value) in [("--usd-per-day", usdPerDay), ("--usd-per-month", usdPerMonth)] {
                if let value, !(value >= 0.000_001 && value < 1e12) {
                    throw ValidationError("\(name) must be a positive amount of dollars")
                }
            }
        }

        func run() async throws {
            var (secret, record) = APIKeys.make(user: user, isAdmin: admin, now: Date())
            record.weight = weight
            record.quota = KeyQuota(
                tokensPerDay: tokensPerDay, tokensPerMonth: tokensPerMonth, costMicrosPerDay: usdPerDay.map(Self.micros),
                costMicrosPerMonth: usdPerMonth.map(Self.micros))
            try await options.withStore(logger: Logger(label: "sluice")) { store in try await store.keys.createKey(record) }
            print(secret)
            FileHandle.standardError.write(
                Data("created \(record.id) for \(user)\(admin ? " (admin)" : ""); the key above is shown only now\n".utf8))
        }

        static func micros(_ usd: Double) -> Int64 { Int64((usd * 1_000_000).rounded()) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, users, prefixes; never secrets).")
        @OptionGroup var options: DatabaseOption

        func run() async throws {
            let keys = try await options.withStore(logger: Logger(label: "sluice")) { store in try await store.keys.keys() }
            print(["ID", "USER", "ADMIN", "WEIGHT", "QUOTA", "PREFIX", "CREATED", "REVOKED"].joined(separator: "\t"))
            for key in keys {
                let revoked = key.revokedAt.map { $0.formatted(.iso8601) } ?? "-"
                print(
                    [
                        key.id, key.user, key.isAdmin ? "yes" : "no", String(key.weight), key.quota.summary, key.prefix + "…",
                        key.createdAt.formatted(.iso8601), revoked,
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id; requests with it are refused at once.")
        @Argument(help: "The key's id (from `sluice keys list`).")
        var id: String
        @OptionGroup var options: DatabaseOption

        func run() async throws {
            let revoked = try await options.withStore(logger: Logger(label: "sluice")) { store in
                try await store.keys.revokeKey(id: id, now: Date())
            }
            guard revoked else {
                FileHandle.standardError.write(Data("no key \(id)\n".utf8))
                throw ExitCode(1)
            }
            FileHandle.standardError.write(Data("revoked \(id)\n".utf8))
        }
    }
}
