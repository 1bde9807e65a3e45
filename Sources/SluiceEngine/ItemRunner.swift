import Foundation
import SluiceCore
import SluiceProviders
import SluiceStore

/// Runs model calls for claimed items and decides each outcome: succeeded with validated
/// output, retry later, or failed with the reason. It never writes; the worker records.
struct ItemRunner: Sendable {
    let store: any JobStore
    let clock: any SluiceClock
    let backoff: RetryBackoff

    /// Marks the error of an attempt whose reply was refused, so the next attempt tells the
    /// model what was wrong with it.
    static let rejectionPrefix = "invalid reply: "

    /// What happened to a unit of work (one item, or several packed into one call).
    enum Result: Sendable {
        case outcomes([ItemOutcome])
        /// The provider refused our credentials: pause the job rather than fail every item.
        case unauthorized(String)
    }

    /// One call for one item, with its group's history when the job groups items.
    func run(_ item: Item, job: Job, provider: any ModelProvider) async -> Result {
        let builder = PromptBuilder(spec: job.spec)
        let started = clock.now()
        let request: ModelRequest
        do {
            var history: [PromptBuilder.Turn] = []
            if let groupKey = item.groupKey {
                history = try await store.groupHistory(jobID: job.id, groupKey: groupKey, beforeIndex: item.index)
                    .compactMap { earlier in earlier.output.map { PromptBuilder.Turn(input: earlier.input, output: $0) } }
            }
            request = try builder.request(for: item.input, history: history, previousError: Self.feedback(from: item))
        } catch {
            return .outcomes([ItemOutcome(itemID: item.id, result: .failed("cannot build the prompt: \(error)"), startedAt: started)])
        }
        let reply: ModelReply
        do {
            reply = try await provider.complete(request)
        } catch {
            return failure(error, items: [item], job: job, started: started)
        }
        let result: ItemOutcome.Result
        switch ReplyDecoder(schema: job.spec.outputSchema).decode(reply.text) {
        case .success(let output): result = .succeeded(output)
        case .failure(let rejection): result = retryOrFail(Self.rejectionPrefix + rejection.message, item: item, job: job)
        }
        return .outcomes([ItemOutcome(itemID: item.id, result: result, usage: reply.usage, model: reply.model, startedAt: started)])
    }

    /// One call answering several ungrouped items; usage is split evenly across them.
    func runPacked(_ items: [Item], job: Job, provider: any ModelProvider) async -> Result {
        let started = clock.now()
        let request: ModelRequest
        do {
            let previous = items.compactMap(Self.feedback(from:)).first
            request = try PromptBuilder(spec: job.spec).packedRequest(for: items.map(\.input), previousError: previous)
        } catch {
            return .outcomes(
                items.map { ItemOutcome(itemID: $0.id, result: .failed("cannot build the prompt: \(error)"), startedAt: started) })
        }
        let reply: ModelReply
        do {
            reply = try await provider.complete(request)
        } catch {
            return failure(error, items: items, job: job, started: started)
        }
        let share = TokenUsage(
            promptTokens: reply.usage.promptTokens / items.count, completionTokens: reply.usage.completionTokens / items.count)
        switch ReplyDecoder(schema: job.spec.outputSchema).decodePacked(reply.text, count: items.count) {
        case .failure(let rejection):
            return .outcomes(
                items.map { item in
                    ItemOutcome(
                        itemID: item.id, result: retryOrFail(Self.rejectionPrefix + rejection.message, item: item, job: job),
                        usage: share, model: reply.model, startedAt: started)
                })
        case .success(let results):
            return .outcomes(
                zip(items, results).map { item, decoded in
                    let result: ItemOutcome.Result
                    switch decoded {
                    case .success(let output): result = .succeeded(output)
                    case .failure(let rejection): result = retryOrFail(Self.rejectionPrefix + rejection.message, item: item, job: job)
                    }
                    return ItemOutcome(itemID: item.id, result: result, usage: share, model: reply.model, startedAt: started)
                })
        }
    }

    func failure(_ failure: ProviderFailure, items: [Item], job: Job, started: Date) -> Result {
        switch failure {
        case .unauthorized(let message):
            return .unauthorized(message)
        case .rejected(let message):
            return .outcomes(items.map { ItemOutcome(itemID: $0.id, result: .failed(message), startedAt: started) })
        case .transient(let message):
            return .outcomes(items.map { ItemOutcome(itemID: $0.id, result: retryOrFail(message, item: $0, job: job), startedAt: started) })
        case .rateLimited(let message, let retryAfter):
            return .outcomes(
                items.map { item in
                    ItemOutcome(itemID: item.id, result: retryOrFail(message, item: item, job: job, after: retryAfter), startedAt: started)
                })
        }
    }

    /// Another attempt while the item has attempts left, otherwise a final failure that says
    /// how many attempts were made and why the last one failed.
    func retryOrFail(_ message: String, item: Item, job: Job, after delay: Double? = nil) -> ItemOutcome.Result {
        guard item.attempts < job.spec.maxAttempts else {
            return .failed(job.spec.maxAttempts == 1 ? message : "\(message) (after \(item.attempts) attempts)")
        }
        let wait = delay ?? backoff.delay(attempt: item.attempts, unit: Double.random(in: 0..<1))
        return .retry(message, notBefore: clock.now().addingTimeInterval(wait))
    }

    /// The rejection of the previous attempt, if its reply was refused.
    static func feedback(from item: Item) -> String? {
        guard item.attempts > 1, let error = item.error, error.hasPrefix(rejectionPrefix) else { return nil }
        return String(error.dropFirst(rejectionPrefix.count))
    }
}
